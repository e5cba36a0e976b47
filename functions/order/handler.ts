import type { AppContext } from '../../lib/context.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

/** One deployment per account (`order-company`, …); each mounts only that account's Kraken secret. */
export const createApp = (ctx: AppContext, account: string) => createJobFunction(`order-${account}`, 'order', ctx);
