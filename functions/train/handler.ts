import type { AppContext } from '../../lib/context.ts';
import { tradedPairs } from '../../lib/cycle/universe.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { adaptAllAccounts } from '../../lib/ml/adapt-accounts.ts';
import { trainJob, type TrainJobOptions } from '../../lib/ml/train-job.ts';
import { HistorySourceError } from '../../lib/market/backfill.ts';
import { configuredSources, fillMissingHistory, historyPairs } from '../../lib/runtime/first-start.ts';

/** The nightly run first fills the bars missing since the newest stored one (a gap after downtime); unreachable, it trains on what is stored. */
async function topUpHistory(ctx: AppContext): Promise<void> {
  try {
    const { bars } = await fillMissingHistory(ctx.db, ctx.clock, configuredSources(ctx.config), await historyPairs(ctx.db), { newerOnly: true });
    if (bars) ctx.logger.info({ bars }, 'train: history topped up before training');
  } catch (err) {
    if (!(err instanceof HistorySourceError)) throw err;
    ctx.logger.warn({ host: err.host, cause: err.reason }, `train: history not topped up (cannot reach ${err.host}: ${err.reason}); training on the stored bars`);
  }
}

/**
 * Retrain (or drift-check and online-update) the model on the stored candles of the traded pairs,
 * promote or refuse the challenger, then adapt every account's thresholds from its closed trades.
 */
export const createApp = (ctx: AppContext, options: Partial<TrainJobOptions> = {}) =>
  createJobFunction('train', 'train', ctx, async (job) => {
    const pairs = await tradedPairs(ctx.db);
    if (job.trigger === 'schedule') await topUpHistory(ctx);
    const training = await trainJob(ctx.db, ctx.clock, job.trigger, pairs, options);
    const adaptation = await adaptAllAccounts(ctx.db, ctx.clock);
    ctx.logger.info({ run: training.run, kind: training.kind, version: training.version, promoted: training.promoted, reason: training.reason }, 'training run');
    return { training, adaptation };
  });
