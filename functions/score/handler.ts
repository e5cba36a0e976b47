import type { AppContext } from '../../lib/context.ts';
import { scoreBar } from '../../lib/cycle/live.ts';
import { baselineProvider } from '../../lib/cycle/signals.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';

/** Features → regime → model → one signal per pair for the bar, then one order job per account. */
export const createApp = (ctx: AppContext) => createJobFunction('score', 'score', ctx, (job) => scoreBar(ctx, baselineProvider, job.pairs, job.barTime));
