import { listAccounts, type Account } from '../accounts/accounts.ts';
import { latestSettings } from '../accounts/settings.ts';
import type { AppContext } from '../context.ts';
import type { Candle } from '../market/candle.ts';
import { loadCandles } from '../market/store.ts';
import { withAccount } from '../db/scope.ts';
import { jobId } from '../queue/jobs.ts';
import { appendAudit } from '../audit/index.ts';
import { BarRefusedError, checkBar } from './freshness.ts';
import { saveSignal } from './live-store.ts';
import type { SignalProvider } from './signals.ts';

/**
 * `score`: one signal per pair and provider for the bar that opened at `barTime`, then an order job
 * per account. Several providers (ML champion first, baseline as fallback) all write their signals
 * before any order job exists; `signals` reports the first provider's.
 */
export async function scoreBar(ctx: AppContext, provider: SignalProvider | readonly SignalProvider[], pairs: readonly string[], barTime: number, interval = 3600) {
  // A bar that has not closed is refused before anything is stored or queued (a stale one is
  // scored — its signals are history — and each account's order job records it as skipped).
  try {
    checkBar(barTime, interval, ctx.clock.now());
  } catch (e) {
    if (e instanceof BarRefusedError) await ctx.db.transaction((tx) => appendAudit(tx, { action: 'cycle.refused', details: { job: 'score', barTime, code: e.code, reason: e.message } }, ctx.clock));
    throw e;
  }
  const providers: readonly SignalProvider[] = Array.isArray(provider) ? provider : [provider as SignalProvider];
  const out: Array<{ pair: string; probUp: number | null }> = [];
  for (const [k, p] of providers.entries()) {
    const histories: Record<string, Candle[]> = {};
    for (const pair of new Set([...pairs, ...(p.companions ?? [])])) histories[pair] = await loadCandles(ctx.db, pair, interval, { to: barTime + 1, limit: p.lookback });
    for (const pair of pairs) {
      const history = histories[pair]!;
      const s = history.at(-1)?.openTime === barTime ? p.signal(history, barTime + interval * 1000, histories) : null;
      if (s) await ctx.db.transaction((tx) => saveSignal(tx, s));
      if (k === 0) out.push({ pair, probUp: s?.probUp ?? null });
    }
  }
  const accounts = await listAccounts(ctx.db);
  const live = await liveAccountIds(ctx, accounts);
  const delayMs = live.size > 0 ? SIM_AFTER_LIVE_MS : undefined;
  await ctx.queue.enqueueMany('order', accounts.map((a) => ({ data: { account: a.slug, barTime }, jobId: jobId('order', a.slug, barTime), delayMs: live.has(a.id) ? undefined : delayMs })));
  return { barTime, signals: out, providers: providers.map((p) => p.name), orderJobs: accounts.length };
}

/**
 * How long simulated accounts' order jobs of a bar wait when a live account trades it. Where jobs
 * share a process and its cores (the embedded runtime) the live orders go out first, not behind
 * the simulations' work; a simulation fills at the bar's close whenever it runs.
 */
export const SIM_AFTER_LIVE_MS = 300;

/** The accounts switched to live; one whose setting cannot be read counts as simulated (its own job reports it). */
async function liveAccountIds(ctx: AppContext, accounts: readonly Account[]): Promise<Set<string>> {
  const live = await Promise.all(
    accounts.map((a) =>
      withAccount(ctx.db, a.id, (tx) => latestSettings(tx, a.id, 'simulation')).then(
        (s) => !s.value.enabled,
        () => false,
      ),
    ),
  );
  return new Set(accounts.filter((_, i) => live[i]).map((a) => a.id));
}
