import { findAccount, listAccounts, type Account } from '../accounts/accounts.ts';
import { latestSettings } from '../accounts/settings.ts';
import { VirtualClock } from '../clock.ts';
import type { AppContext } from '../context.ts';
import { withAccount } from '../db/scope.ts';
import { brokerForAccount, type AccountBroker } from '../exchange/broker-factory.ts';
import type { PriceSource } from '../exchange/sim-types.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { loadCandles } from '../market/store.ts';
import { jobId } from '../queue/jobs.ts';
import type { AccountBook } from './book.ts';
import { runHedgePhase } from './hedge-phase.ts';
import { dbJournal, lastFillTime, loadBook, loadSignals, recordFills, recordTransition, saveBook, saveEquity, saveHedge, saveSignal } from './live-store.ts';
import { marketView } from './market-view.ts';
import { runOrderPhase } from './order-phase.ts';
import type { SignalProvider } from './signals.ts';
import type { AccountSettingsSet, Journal, MarketView } from './types.ts';
import { heldQty } from './valuation.ts';
import { accountHalted, drawdownRatio, equityUsd, hedgeRatioGauge, ordersTotal } from '../http/metrics.ts';
import { reconcileWithExchange } from './reconcile-live.ts';
import type { KrakenBroker } from '../exchange/kraken-broker.ts';
import { utcDayKey } from '../risk/drawdown.ts';

/**
 * The live path: each queue job loads what the shared cycle needs from the database, runs one phase
 * and books the outcome. Simulated accounts trade on a SimBroker whose clock is the decision time
 * (the bar close), exactly like the backtest; live accounts go to Kraken.
 */
export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
}

const VIEW_BARS = 400; // enough for the correlation (168) and volatility windows

/**
 * `score`: one signal per pair and provider for the bar that opened at `barTime`, then an order job
 * per account. Several providers (ML champion first, baseline as fallback) all write their signals
 * before any order job exists; `signals` reports the first provider's.
 */
export async function scoreBar(ctx: AppContext, provider: SignalProvider | readonly SignalProvider[], pairs: readonly string[], barTime: number, interval = 3600) {
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
  for (const a of accounts) await ctx.queue.enqueue(`order-${a.slug}`, { barTime }, { jobId: jobId('order', a.slug, barTime) });
  return { barTime, signals: out, providers: providers.map((p) => p.name), orderJobs: accounts.length };
}

interface Loaded {
  account: Account;
  settings: AccountSettingsSet;
  view: MarketView;
  broker: AccountBroker;
  book: AccountBook;
  journal: Journal;
  simClock: VirtualClock;
}

async function load(ctx: AppContext, slug: string, barTime: number): Promise<Loaded> {
  const account = await findAccount(ctx.db, slug);
  if (!account) throw new UnknownAccountError(`no account ${slug}`);
  // One transaction is one connection: its queries run one after the other.
  const [trading, risk, hedge] = await withAccount(ctx.db, account.id, async (tx) => [
    await latestSettings(tx, account.id, 'trading'),
    await latestSettings(tx, account.id, 'risk'),
    await latestSettings(tx, account.id, 'hedge'),
  ] as const);
  const settings: AccountSettingsSet = { trading: trading.value, risk: risk.value, hedge: hedge.value };
  const interval = settings.trading.candleInterval;
  const now = barTime + interval * 1000;
  const history: Record<string, Candle[]> = {};
  for (const pair of [...settings.trading.pairs].sort()) history[pair] = await loadCandles(ctx.db, pair, interval, { to: barTime + 1, limit: VIEW_BARS });
  const simClock = new VirtualClock(now);
  const prices: PriceSource = { quote: () => null, candle: (pair) => history[pair]?.at(-1) ?? null };
  const broker = await brokerForAccount({ db: ctx.db, clock: simClock, config: ctx.config, masterKey: ctx.masterKey, logger: ctx.logger, prices }, account);
  const markets: Record<string, MarketSpec> = Object.fromEntries(broker.markets.map((m) => [m.symbol, m]));
  // The simulated venue sees every bar up to now, in the order the backtest feeds them.
  if (broker.mode === 'sim') for (const pair of Object.keys(history)) await broker.broker.processBars(history[pair]!.slice(-48));
  const signals = await withAccount(ctx.db, account.id, (tx) => loadSignals(tx, settings.trading.pairs, barTime));
  const view = marketView(history, signals, markets, now, settings.risk);
  const book = await withAccount(ctx.db, account.id, (tx) => loadBook(tx, account.id));
  return { account, settings, view, broker, book, journal: committedJournal(ctx, account.id, account.slug, broker.mode, now), simClock };
}

/** Each journal write commits on its own: the pending order row must be durable before the send. */
function committedJournal(ctx: AppContext, accountId: string, slug: string, mode: 'sim' | 'live', now: number): Journal {
  const j = (tx: Parameters<Parameters<typeof withAccount>[2]>[0]) => dbJournal(tx, accountId, mode, ctx.clock, now);
  return {
    beforeSubmit: (intent, order) => withAccount(ctx.db, accountId, (tx) => Promise.resolve(j(tx).beforeSubmit(intent, order))),
    afterSubmit: async (intent, order, result) => {
      await withAccount(ctx.db, accountId, async (tx) => void (await j(tx).afterSubmit(intent, order, result)));
      ordersTotal.inc({ account: slug, status: result.status });
    },
    refused: async (intent, verdict) => {
      await withAccount(ctx.db, accountId, async (tx) => void (await j(tx).refused(intent, verdict)));
      ordersTotal.inc({ account: slug, status: 'refused' });
    },
  };
}

async function bookFills(ctx: AppContext, l: Loaded): Promise<number> {
  const since = await withAccount(ctx.db, l.account.id, (tx) => lastFillTime(tx, l.account.id));
  const fills = (await l.broker.broker.fills(since + 1)).filter((f) => f.time > since);
  return withAccount(ctx.db, l.account.id, (tx) => recordFills(tx, l.account.id, l.broker.mode, fills, ctx.clock));
}

/** `order-<account>`: decide → risk → broker → persist, then the account's hedge job. */
export async function orderBar(ctx: AppContext, slug: string, barTime: number) {
  const l = await load(ctx, slug, barTime);
  if (l.broker.mode === 'live') {
    const unexplained = await reconcileWithExchange(ctx, l.account.id, l.broker.broker as KrakenBroker, l.view.now);
    if (unexplained.length) {
      // Fail closed: the account trades again only when the exchange and the books agree.
      const halted = { state: 'HALTED' as const, since: l.view.now, reason: `reconciliation: ${unexplained.length} unexplained difference(s)`, dayKey: utcDayKey(l.view.now), drawdown: l.book.tradingState?.drawdown ?? 0, referenceEquity: null };
      const held = heldQty(await l.broker.broker.balances(), Object.fromEntries(l.broker.markets.map((m) => [m.symbol, m])), l.settings.trading.pairs);
      await withAccount(ctx.db, l.account.id, async (tx) => {
        await saveBook(tx, l.account.id, { ...l.book, tradingState: halted, dayStart: l.book.dayStart ?? { time: l.view.now, equity: 0 } }, held, l.view.now);
        await recordTransition(tx, l.account.id, l.book.tradingState, halted, ctx.clock, { unexplained });
      });
      accountHalted.set({ account: slug }, 1);
      return { account: slug, mode: l.broker.mode, barTime, state: 'HALTED', halted: 'reconciliation', unexplained: unexplained.length };
    }
  }
  const r = await runOrderPhase({ accountId: l.account.id, settings: l.settings, market: l.view, venue: l.broker.broker, book: l.book, journal: l.journal });
  const held = heldQty(await l.broker.broker.balances(), Object.fromEntries(l.broker.markets.map((m) => [m.symbol, m])), l.settings.trading.pairs);
  await withAccount(ctx.db, l.account.id, async (tx) => {
    await saveBook(tx, l.account.id, r.book, held, l.view.now);
    if (r.transition) await recordTransition(tx, l.account.id, r.transition.from, r.transition.to, ctx.clock, { cancelledEntries: r.cancelledEntries, flatten: r.transition.flatten });
  });
  accountHalted.set({ account: slug }, r.tradingState.state === 'HALTED' ? 1 : 0);
  const booked = await bookFills(ctx, l);
  await ctx.queue.enqueue('hedge', { barTime, account: slug }, { jobId: jobId('hedge', slug, barTime) });
  return {
    account: slug,
    mode: l.broker.mode,
    barTime,
    state: r.tradingState.state,
    equity: r.equity,
    sent: r.executed.filter((e) => e.result?.status === 'accepted').length,
    refused: r.executed.filter((e) => e.result === null).map((e) => e.code),
    fills: booked,
  };
}

/** `hedge`: the account's USD hedge and the cycle's equity snapshot. */
export async function hedgeBar(ctx: AppContext, slug: string, barTime: number) {
  const l = await load(ctx, slug, barTime);
  const r = await runHedgePhase({ accountId: l.account.id, settings: l.settings, market: l.view, venue: l.broker.broker, book: l.book, journal: l.journal });
  const held = heldQty(await l.broker.broker.balances(), Object.fromEntries(l.broker.markets.map((m) => [m.symbol, m])), Object.keys(l.view.markets));
  const rebalanced = r.executed.some((e) => e.result?.status === 'accepted');
  await withAccount(ctx.db, l.account.id, async (tx) => {
    await saveBook(tx, l.account.id, r.book, held, l.view.now);
    await saveHedge(tx, l.account.id, r.book, r.target, r.snapshot.hedgeRatio, l.view.now, rebalanced);
    await saveEquity(tx, l.account.id, r.snapshot);
  });
  equityUsd.set({ account: slug }, r.snapshot.equityUsd);
  drawdownRatio.set({ account: slug }, r.snapshot.drawdown);
  hedgeRatioGauge.set({ account: slug }, r.snapshot.hedgeRatio);
  const booked = await bookFills(ctx, l);
  return { account: slug, barTime, target: r.target.target, mode: r.target.mode, actual: r.snapshot.hedgeRatio, equity: r.snapshot.equityUsd, legs: r.executed.length, fills: booked };
}

/** The newest bar time every given pair has in the store (what a cron-triggered hedge acts on). */
export async function latestCommonBar(ctx: AppContext, pairs: readonly string[], interval = 3600): Promise<number | null> {
  let t: number | null = null;
  for (const p of pairs) {
    const last = (await loadCandles(ctx.db, p, interval, { limit: 1 }))[0];
    if (!last) return null;
    t = t === null ? last.openTime : Math.min(t, last.openTime);
  }
  return t;
}
