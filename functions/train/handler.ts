import type { AppContext } from '../../lib/context.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

export const createApp = (ctx: AppContext) => createJobFunction('train', 'train', ctx);
