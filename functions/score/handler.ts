import type { AppContext } from '../../lib/context.ts';
import { BarRefusedError } from '../../lib/cycle/freshness.ts';
import { scoreBar } from '../../lib/cycle/live.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { mlProvider } from '../../lib/cycle/ml-provider.ts';
import { baselineProvider, perPairIsolated, type SignalFailure, type SignalProvider } from '../../lib/cycle/signals.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { loadChampion, trainedModelOf } from '../../lib/ml/registry-store.ts';

/** The champion's provider, rebuilt only when the registry names a new champion. */
function championProviders(ctx: AppContext): () => Promise<SignalProvider[]> {
  let cached: { version: string; provider: SignalProvider } | null = null;
  return async () => {
    const champion = await loadChampion(ctx.db);
    if (!champion) return [baselineProvider];
    if (cached?.version !== champion.version) cached = { version: champion.version, provider: mlProvider(trainedModelOf(champion), champion.version) };
    return [cached.provider, baselineProvider];
  };
}

/**
 * Features → regime → model → one signal per pair for the bar, then one order job per account. With
 * a champion both its signals and the baseline's are stored: the order step prefers the model's and
 * falls back to the baseline's where the model gave none. Each pair is scored on its own
 * (`perPairIsolated`): a pair a provider fails on is logged (warn), reported under `failed` and left
 * without that provider's signal, and every other pair and every account's order job go ahead.
 */
export const createApp = (ctx: AppContext) => {
  const providers = championProviders(ctx);
  return createJobFunction('score', 'score', ctx, async (job) => {
    const failed: SignalFailure[] = [];
    const isolated = (await providers()).map((p) => perPairIsolated(p, failed));
    const out = await scoreBar(ctx, isolated, job.pairs, job.barTime).catch((err: unknown) => {
      throw err instanceof BarRefusedError ? new HttpError(422, err.code, err.message) : err;
    });
    for (const f of failed) ctx.logger.warn({ pair: f.pair, provider: f.provider, barTime: job.barTime, err: f.error }, 'score: pair not scored');
    return { ...out, failed };
  });
};
