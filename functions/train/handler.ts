import type { AppContext } from '../../lib/context.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { adaptAllAccounts } from '../../lib/ml/adapt-accounts.ts';
import { trainJob, type TrainJobOptions } from '../../lib/ml/train-job.ts';

/**
 * Retrain (or drift-check and online-update) the model on the stored candles of the traded pairs,
 * promote or refuse the challenger, then adapt every account's thresholds from its closed trades.
 */
export const createApp = (ctx: AppContext, options: Partial<TrainJobOptions> = {}) =>
  createJobFunction('train', 'train', ctx, async (job) => {
    const pairs = await tradedPairs(ctx.db);
    const training = await trainJob(ctx.db, ctx.clock, job.trigger, pairs, options);
    const adaptation = await adaptAllAccounts(ctx.db, ctx.clock);
    ctx.logger.info({ run: training.run, kind: training.kind, version: training.version, promoted: training.promoted, reason: training.reason }, 'training run');
    return { training, adaptation };
  });
