import { findAccount, type Account } from '../accounts/accounts.ts';
import { allLatestSettings } from '../accounts/settings.ts';
import { appendAudit } from '../audit/index.ts';
import { VirtualClock } from '../clock.ts';
import type { AppContext } from '../context.ts';
import type { Db, Tx } from '../db/client.ts';
import { sessionLocks } from '../db/locks.ts';
import { withAccount } from '../db/scope.ts';
import { brokerForAccount, brokerSetup, prepareLiveBroker, type AccountBroker } from '../exchange/broker-factory.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { accountHalted, cyclesTotal, dailyDrawdownRatio, drawdownLimitRatio, drawdownRatio, equityUsd, hedgeRatioGauge, ordersTotal } from '../http/metrics.ts';
import { utcDayKey, type TradingState } from '../risk/drawdown.ts';
import type { Signal } from '../strategy/signal.ts';
import { protectHoldings, runAccountCycle } from './account-cycle.ts';
import type { AccountBook } from './book.ts';
import { cachedVenue, type CachedVenue } from './cached-venue.ts';
import { logMarket, logOutcome } from './cycle-log.ts';
import { BarRefusedError, checkBar } from './freshness.ts';
import { bookBalances, dbJournal, insertPendingOrder, lastFillTime, lastLiveCycleStart, latestBalances, loadBook, recordCycle, recordFills, recordOpenOrders, recordTransition, saveBalances, saveBook, saveEquity, saveHedge } from './live-store.ts';
import { MarketData } from './market-data.ts';
import { reconcileAfterOrders, reconcileWithExchange, rememberExchange, type ReconcileOutcome } from './reconcile-live.ts';
import type { AccountSettingsSet, Journal, MarketView } from './types.ts';
import { heldQty } from './valuation.ts';

/**
 * The `order-<account>` job: one account at one bar, as the live runtime runs it. The bar must be the
 * newest closed one by wall time (an older one is skipped and recorded, a future one refused); one
 * job per account at a time (a session advisory lock: a second one answers busy); a live account reconciles with Kraken first and halts
 * — still protecting its holdings — on an unexplained difference; then the shared account cycle
 * (protection, orders, hedge, protection) on a venue whose reads are cached between writes; then
 * the fills are booked once each, and the book, hedge, equity and balances are stored.
 */
export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
}

const marketData = new WeakMap<Db, MarketData>();
const marketDataOf = (db: Db): MarketData => {
  let m = marketData.get(db);
  if (!m) marketData.set(db, (m = new MarketData(db)));
  return m;
};

/** The accounts this process's order jobs have served: an account's id and slug never change, and a row is never deleted. */
const accountsSeen = new WeakMap<Db, Map<string, Account>>();

async function orderAccount(db: Db, slug: string): Promise<Account | null> {
  let seen = accountsSeen.get(db);
  if (!seen) accountsSeen.set(db, (seen = new Map()));
  const known = seen.get(slug);
  if (known) return known;
  const account = await findAccount(db, slug);
  if (account) seen.set(slug, account);
  return account;
}

export async function runOrderJob(ctx: AppContext, slug: string, barTime: number) {
  const t0 = performance.now();
  const startedAt = ctx.clock.now();
  const account = await orderAccount(ctx.db, slug);
  if (!account) throw new UnknownAccountError(`no account ${slug}`);
  prepareLiveBroker(account.id);
  // The settings (and a live account's key) are read while the lock is taken: they are not the
  // job's to change, and a job that finds the account busy drops them.
  const settingsRead = readSettings(ctx, account.id);
  settingsRead.catch(() => undefined); // awaited in job(); a busy account never awaits it
  try {
    // The lock (one job per account at a time), then everything else read at once: a live account's
    // Kraken reads start as soon as its keys are read, while the rest of what the job needs is read.
    const result = await withAccountLock(ctx.db, account.id, () => job(ctx, account, barTime, startedAt, t0, settingsRead));
    if ('skipped' in result) cyclesTotal.inc({ account: slug, outcome: 'skipped' });
    else cyclesTotal.inc({ account: slug, outcome: result.state === 'HALTED' && 'halted' in result ? 'halted' : 'done' });
    return result;
  } catch (err) {
    // Not this job's failure: busy runs again in a moment; a refused bar is audited, never traded.
    if (err instanceof AccountBusyError || err instanceof BarRefusedError) throw err;
    cyclesTotal.inc({ account: slug, outcome: 'failed' });
    await withAccount(ctx.db, account.id, (tx) =>
      recordCycle(tx, account.id, { barTime, outcome: 'failed', mode: null, startedAt, finishedAt: ctx.clock.now(), detail: { error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 500) } }),
    ).catch(() => undefined); // the job's failure is what matters; it is retried or reported either way
    throw err;
  }
}

/** The account's settings and the broker's setup (a live account's key), in one transaction. */
function readSettings(ctx: AppContext, id: string) {
  return withAccount(ctx.db, id, async (tx) => {
    const s = await allLatestSettings(tx, id);
    // The broker's setup in the same transaction: one BEGIN … COMMIT fewer before Kraken is asked.
    // Its failure is the broker's, met only if the bar is traded.
    const setup = await brokerSetup(tx, id, s.simulation.value, ctx).then(
      (ok) => ({ ok }),
      (error: unknown) => ({ error }),
    );
    return { ...s, setup };
  });
}

/**
 * The job under the account's lock: the bar checked against the wall clock (a future one refused and
 * audited, a stale one recorded skipped), then traded. The settings (begun before the lock) come
 * first and alone: a live account's broker is built from them, and its Kraken reads — the longest
 * wait before an order — go out before the job reads its own rows (book, then reconciliation's side
 * of the books, candles, signals), which are read while Kraken answers. Read beside the settings,
 * they would hold them back: one process, one thread.
 */
async function job(ctx: AppContext, account: Account, barTime: number, startedAt: number, t0: number, all: ReturnType<typeof readSettings>) {
  const id = account.id;
  const readBook = () => withAccount(ctx.db, id, (tx) => loadBook(tx, id));
  const prices = { candles: {} as Readonly<Record<string, readonly Candle[]>> };
  // Only a bar that may be traded reaches Kraken: a stale or refused one sends nothing, reads included.
  const barCheck = all.then((s) => checkBar(barTime, s.trading.value.candleInterval, startedAt));
  const started = Promise.all([all, barCheck]).then(async ([s, fresh]) => {
    if (fresh.kind !== 'fresh') return { broker: null, reconciling: null, deps: null, bookRead: null, marketRead: null };
    const deps = { db: ctx.db, clocks: { market: new VirtualClock(barTime), wall: ctx.clock }, config: ctx.config, masterKey: ctx.masterKey, logger: ctx.logger, prices: { quote: () => null, candle: (pair: string) => prices.candles[pair]?.at(-1) ?? null } };
    const sim = s.simulation;
    if ('error' in s.setup) throw s.setup.error;
    const broker = await brokerForAccount(deps, account, s.setup.ok);
    // Reconciliation never reads the exchange from before the account went live (its latest simulation setting).
    const liveSince = sim.value.enabled ? startedAt : sim.createdAt;
    // What needs no answer from Kraken is read while Kraken is asked: the first order goes out sooner.
    const marketRead = readMarket(ctx, s.trading.value, barTime);
    if (broker.mode === 'sim') return { broker, reconciling: null, deps, bookRead: readBook(), marketRead };
    const reconciling = reconcileWithExchange(ctx, id, broker.broker, liveSince);
    reconciling.catch(() => undefined); // awaited in trade(); a failure before then must not go unhandled
    return { broker, reconciling, deps, bookRead: readBook(), marketRead };
  });
  // Settled below or in trade(); a failure of one must not go unhandled while another is awaited.
  for (const p of [all, barCheck, started]) p.catch(() => undefined);
  const { trading, risk, hedge } = await all;
  const settings: AccountSettingsSet = { trading: trading.value, risk: risk.value, hedge: hedge.value };
  let fresh: ReturnType<typeof checkBar>;
  try {
    fresh = await barCheck;
  } catch (e) {
    if (e instanceof BarRefusedError) await withAccount(ctx.db, id, (tx) => appendAudit(tx, { action: 'cycle.refused', accountId: id, details: { barTime, code: e.code, reason: e.message } }, ctx.clock));
    throw e;
  }
  if (fresh.kind === 'stale') {
    const detail = { reason: `a newer bar (${new Date(fresh.newest).toISOString()}) has closed: the decision would be stale` };
    await withAccount(ctx.db, id, async (tx) => {
      await recordCycle(tx, id, { barTime, outcome: 'skipped', mode: null, startedAt, finishedAt: ctx.clock.now(), detail });
      await appendAudit(tx, { action: 'cycle.skipped', accountId: id, details: { barTime, ...detail } }, ctx.clock);
    });
    return { account: account.slug, barTime, skipped: 'stale' as const, newest: fresh.newest };
  }
  const { broker, reconciling, deps, bookRead, marketRead } = await started;
  if (!broker) throw new Error('unreachable: a fresh bar builds its broker');
  const book = await bookRead;
  deps.clocks.market.set(barTime + settings.trading.candleInterval * 1000); // the decision time: the bar's close
  return trade(ctx, account, { settings, book }, broker, reconciling, marketRead, prices, barTime, startedAt, t0);
}

interface Stored {
  settings: AccountSettingsSet;
  book: AccountBook;
}

/** The bar's candles and signals for the account's pairs, being read. */
interface MarketRead {
  history: Promise<Readonly<Record<string, readonly Candle[]>>>;
  signals: Promise<Record<string, Signal | null>>;
}

function readMarket(ctx: AppContext, trading: AccountSettingsSet['trading'], barTime: number): MarketRead {
  const data = marketDataOf(ctx.db);
  const read = { history: data.history(trading.pairs, trading.candleInterval, barTime), signals: data.signals(trading.pairs, barTime) };
  // Awaited in trade(); if something before fails first, their failures must not go unhandled meanwhile.
  read.history.catch(() => undefined);
  read.signals.catch(() => undefined);
  return read;
}

/**
 * Readies this process for the account's next order job, at start-up rather than on the job's clock:
 * pooled database connections, the account's rows, the candle history its pairs read, and for a live
 * account its broker — Kraken's markets and the key's fee tier, nonces in step with the store, and
 * the signed-request path (balances and open orders, read-only: two points on the key's counter).
 * A cold process otherwise spends ~100 ms of the first job's time on it, before its first order.
 */
export async function warmOrderJob(ctx: AppContext, slug: string): Promise<void> {
  const account = await findAccount(ctx.db, slug);
  if (!account) return;
  const id = account.id;
  // The job's own reads, side by side as it makes them (the pool opens the connections it needs).
  const [all] = await Promise.all([withAccount(ctx.db, id, (tx) => allLatestSettings(tx, id)), withAccount(ctx.db, id, async (tx) => [await loadBook(tx, id), await lastLiveCycleStart(tx, id)])]);
  // The account lock's session connection, opened under a key no job takes.
  const locks = sessionLocks(ctx.db);
  if (await locks.tryLock(WARM_LOCK_SPACE, id)) await locks.unlock(WARM_LOCK_SPACE, id);
  const { candleInterval, pairs } = all.trading.value;
  const step = candleInterval * 1000;
  const bar = Math.floor(ctx.clock.now() / step) * step - step; // the newest closed bar
  await marketDataOf(ctx.db).history(pairs, candleInterval, bar);
  if (all.simulation.value.enabled) return; // a simulation reaches no private endpoint, not even to warm up
  const setup = await withAccount(ctx.db, id, (tx) => brokerSetup(tx, id, all.simulation.value, ctx));
  const deps = { db: ctx.db, clocks: { market: new VirtualClock(bar), wall: ctx.clock }, config: ctx.config, masterKey: ctx.masterKey, logger: ctx.logger, prices: { quote: () => null, candle: () => null } };
  const b = await brokerForAccount(deps, account, setup);
  if (b.mode !== 'live') return;
  await b.broker.prepare();
  await b.broker.loadMarkets();
  await b.broker.balances();
  await b.broker.openOrders();
}

const LOCK_SPACE = 0x6f72_6472; // "ordr"
const WARM_LOCK_SPACE = 0x7761_726d; // "warm"

/** Another order job of the account is running (another process, or a caller beside the queue): try again shortly. */
export class AccountBusyError extends Error {
  override name = 'AccountBusyError';
}

/**
 * Runs `fn` while holding the account's order lock, a session-level advisory lock (lib/db/locks.ts):
 * one job per account at a time across processes, released at once if the process dies.
 */
async function withAccountLock<T>(db: Db, accountId: string, fn: () => Promise<T>): Promise<T> {
  const locks = sessionLocks(db);
  if (!(await locks.tryLock(LOCK_SPACE, accountId))) throw new AccountBusyError(`another order job of account ${accountId} is running`);
  try {
    return await fn();
  } finally {
    await locks.unlock(LOCK_SPACE, accountId);
  }
}

async function trade(
  ctx: AppContext,
  account: Account,
  stored: Stored,
  broker: AccountBroker,
  reconciling: Promise<ReconcileOutcome> | null,
  market: MarketRead,
  prices: { candles: Readonly<Record<string, readonly Candle[]>> },
  barTime: number,
  startedAt: number,
  t0: number,
) {
  const { settings, book } = stored;
  const interval = settings.trading.candleInterval;
  const now = barTime + interval * 1000; // the decision time: the bar's close
  const data = marketDataOf(ctx.db);
  const history = (prices.candles = await market.history);
  const markets: Record<string, MarketSpec> = Object.fromEntries((await broker.broker.loadMarkets()).map((m) => [m.symbol, m]));
  // The simulated venue sees every bar up to now (those it has not consumed yet), in time order, in one write.
  if (broker.mode === 'sim') await broker.broker.processBars(Object.values(history).flatMap((cs) => cs.slice(-48)).sort((a, b) => a.openTime - b.openTime || a.pair.localeCompare(b.pair)));
  const view = await data.view(settings.trading.pairs, interval, barTime, markets, settings.risk, await market.signals);
  const venue = cachedVenue(broker.broker);
  const base = { account: account.slug, mode: broker.mode, barTime };
  logMarket(ctx.logger, base, view, settings.trading.pairs);

  let booking: () => Promise<unknown> = () => Promise.resolve();
  let after: ReconcileOutcome['after'] = null;
  if (reconciling) {
    const rec = await reconciling;
    venue.seed({ balances: rec.balances, openOrders: rec.openOrders });
    booking = rec.book;
    after = rec.after;
    if (rec.unexplained.length) return halt(ctx, account, settings, view, venue, book, committedJournal(ctx, account, broker.mode, now, t0, booking), rec.unexplained, { ...base, startedAt });
  }
  const journal = committedJournal(ctx, account, broker.mode, now, t0, booking);

  const c = await sendThenFlush(journal, runAccountCycle({ accountId: account.id, settings, market: view, venue, book, journal }));
  const balances = await venue.balances(); // read again after any change the cycle made
  const open = await venue.openOrders();
  // A live cycle that changed nothing has nothing new to book that the next reconciliation misses
  // (each read is a point on Kraken's counter); the simulator's bars may have filled resting orders.
  // A reconciliation put off until the orders were out books every fill itself, this job's too.
  const late = after && broker.mode === 'live' ? await reconcileAfterOrders(ctx, account.id, broker.broker, after.since, open, balances) : null;
  const fills = late ? late.booked : broker.mode === 'sim' || venue.writes() > 0 ? await bookFills(ctx, account.id, broker) : 0;
  const held = heldQty(balances, markets, Object.keys(markets));
  const o = c.order;
  await withAccount(ctx.db, account.id, async (tx) => {
    await recordOpenOrders(tx, account.id, broker.mode, open);
    await saveBook(tx, account.id, c.book, held, now);
    if (o.transition) await recordTransition(tx, account.id, o.transition.from, o.transition.to, ctx.clock, { cancelledEntries: o.cancelledEntries, flatten: o.transition.flatten });
    await saveHedge(tx, account.id, c.book, c.hedge.target, c.hedge.snapshot.hedgeRatio, now, c.hedge.executed.some((e) => e.result?.status === 'accepted'));
    await saveEquity(tx, account.id, c.hedge.snapshot);
    if (broker.mode === 'live') await saveBookBalances(tx, account.id, ctx.clock.now(), balances);
  });
  const executed = [...c.protection[0]!.placed, ...o.executed, ...c.hedge.executed, ...c.protection[1]!.placed];
  const summary = {
    ...base,
    state: o.tradingState.state,
    equity: c.hedge.snapshot.equityUsd,
    hedge: { target: c.hedge.target.target, actual: c.hedge.snapshot.hedgeRatio, mode: c.hedge.target.mode },
    sent: executed.filter((e) => e.result?.status === 'accepted').length,
    refused: executed.filter((e) => e.result === null).map((e) => e.code),
    protection: c.protection.map((p) => ({ phase: p.phase, actions: p.actions.map((a) => `${a.kind} ${a.pair}: ${a.why}`) })),
    fills,
    ms: Math.round(performance.now() - t0),
  };
  await withAccount(ctx.db, account.id, (tx) => recordCycle(tx, account.id, { barTime, outcome: 'done', mode: broker.mode, startedAt, finishedAt: ctx.clock.now(), detail: summary }));
  if (broker.mode === 'live') {
    // A difference the comparison after the orders found: the next job, told nothing of what this
    // one left, compares before it sends anything — and halts there if the difference persists.
    if (late?.unexplained.length) ctx.logger.warn({ account: account.slug, bar: new Date(barTime).toISOString(), unexplained: late.unexplained }, 'reconciliation after the orders found differences: the next job reconciles before trading');
    else rememberExchange(broker.broker, startedAt, open, balances);
    // The bar is traded and recorded: a refresh (markets, fee tier) that fails is read again after the next job's orders.
    await broker.broker.refreshDue().catch((err: unknown) => ctx.logger.warn({ account: account.slug, err: (err as Error).message }, 'markets or fee tier not refreshed'));
  }
  logOutcome(ctx.logger, base, c, fills);
  accountHalted.set({ account: account.slug }, o.tradingState.state === 'HALTED' ? 1 : 0);
  equityUsd.set({ account: account.slug }, c.hedge.snapshot.equityUsd);
  drawdownRatio.set({ account: account.slug }, c.hedge.snapshot.drawdown);
  dailyDrawdownRatio.set({ account: account.slug }, o.tradingState.drawdown);
  drawdownLimitRatio.set({ account: account.slug, level: 'soft' }, settings.risk.softDailyDrawdown);
  drawdownLimitRatio.set({ account: account.slug, level: 'hard' }, settings.risk.hardDailyDrawdown);
  hedgeRatioGauge.set({ account: account.slug }, c.hedge.snapshot.hedgeRatio);
  ctx.logger.info({ account: account.slug, mode: broker.mode, bar: new Date(barTime).toISOString(), state: summary.state, sent: summary.sent, refused: summary.refused.length, fills, equity: Math.round(summary.equity * 100) / 100, ms: summary.ms }, 'cycle done');
  return summary;
}

/**
 * Reconciliation found a difference nobody can explain: the account stops trading (HALTED, audited)
 * until an admin resets it — but its holdings keep their stops: the protection check still runs.
 */
async function halt(
  ctx: AppContext,
  account: Account,
  settings: AccountSettingsSet,
  view: MarketView,
  venue: CachedVenue,
  book: AccountBook,
  journal: BackgroundJournal,
  unexplained: readonly { kind: string }[],
  base: { account: string; mode: 'sim' | 'live'; barTime: number; startedAt: number },
) {
  const now = view.now;
  const prev = book.tradingState;
  const halted: TradingState = { state: 'HALTED', since: now, reason: `reconciliation: ${unexplained.length} unexplained difference(s)`, dayKey: utcDayKey(now), drawdown: prev?.drawdown ?? 0, referenceEquity: null };
  const already = prev?.state === 'HALTED' && prev.reason.startsWith('reconciliation');
  const p = await sendThenFlush(journal, protectHoldings({ accountId: account.id, settings, market: view, venue, book: { ...book, tradingState: halted }, journal }, { ...book, tradingState: halted }, 'start'));
  venue.refresh();
  const held = heldQty(await venue.balances(), view.markets, Object.keys(view.markets));
  await withAccount(ctx.db, account.id, async (tx) => {
    await saveBook(tx, account.id, { ...p.book, tradingState: already ? prev : halted, dayStart: book.dayStart ?? { time: now, equity: 0 } }, held, now);
    if (!already) await recordTransition(tx, account.id, prev, halted, ctx.clock, { unexplained });
    await recordCycle(tx, account.id, { barTime: base.barTime, outcome: 'halted', mode: 'live', startedAt: base.startedAt, finishedAt: ctx.clock.now(), detail: { unexplained, protection: p.check.actions.map((a) => `${a.kind} ${a.pair}: ${a.why}`) } });
  });
  accountHalted.set({ account: account.slug }, 1);
  ctx.logger.warn({ account: account.slug, bar: new Date(base.barTime).toISOString(), unexplained: unexplained.length }, 'reconciliation found unexplained differences: account HALTED');
  return { account: base.account, mode: base.mode, barTime: base.barTime, state: 'HALTED' as const, halted: 'reconciliation', unexplained: unexplained.length };
}

/** A journal whose after-the-fact writes wait until the orders are out; `flush` writes them (and reports their failure). */
interface BackgroundJournal extends Journal {
  flush(): Promise<void>;
}

/** The orders, then the journal's writes — those of a cycle that failed midway too: what was sent is on record. */
async function sendThenFlush<T>(journal: BackgroundJournal, orders: Promise<T>): Promise<T> {
  let out: T;
  try {
    out = await orders;
  } catch (err) {
    await journal.flush().catch(() => undefined); // the cycle's own failure is the one reported
    throw err;
  }
  await journal.flush();
  return out;
}

/**
 * Each journal write commits on its own. The pending order row must be durable before the send, so
 * `beforeSubmit` is awaited (one round trip: insertPendingOrder); what is recorded after an answer
 * (the answer, a refusal, an amend, a cancel) waits until the cycle's orders are out (`flush`), then
 * is written in order — after what reconciliation books (`booking`, started then too): those writes
 * may touch the same order rows, and done earlier they would compete with the next order's pending
 * row for the process. A crash before they commit leaves pending rows and unbooked fills that the
 * next reconciliation settles. The acknowledgement is logged the moment the exchange gives it.
 */
function committedJournal(ctx: AppContext, account: Account, mode: 'sim' | 'live', now: number, t0: number, booking: () => Promise<unknown>): BackgroundJournal {
  const run = <T>(f: (j: Journal) => T | Promise<T>): Promise<T> => withAccount(ctx.db, account.id, async (tx) => f(dbJournal(tx, account.id, mode, ctx.clock, now)));
  let failure: unknown = null;
  let release!: () => void;
  const ordersOut = new Promise<void>((r) => (release = r));
  let tail: Promise<void> = ordersOut.then(booking).then(
    () => undefined,
    (err: unknown) => void (failure ??= err),
  );
  const later = (f: (j: Journal) => unknown) => {
    tail = tail.then(() => run(async (j) => void (await f(j)))).catch((err: unknown) => void (failure ??= err));
  };
  return {
    beforeSubmit: (intent, order) => insertPendingOrder(ctx.db, account.id, mode, now, intent, order),
    afterSubmit: (intent, order, result) => {
      ordersTotal.inc({ account: account.slug, status: result.status });
      if (result.status === 'accepted')
        ctx.logger.info({ account: account.slug, mode, clientId: order.clientId, kind: intent.kind, pair: order.pair, side: order.side, type: order.type, amount: order.amount, ms: Math.round((performance.now() - t0) * 10) / 10 }, 'order acknowledged');
      later((j) => j.afterSubmit(intent, order, result));
    },
    refused: (intent, verdict) => {
      ordersTotal.inc({ account: account.slug, status: 'refused' });
      later((j) => j.refused(intent, verdict));
    },
    amended: (order, change, result, why) => later((j) => j.amended(order, change, result, why)),
    cancelled: (order, why) => later((j) => j.cancelled(order, why)),
    flush: async () => {
      release();
      await tail;
      if (failure !== null) throw failure;
    },
  };
}

/** Books what the venue filled since the newest booked fill (that time included: fills sharing it are told apart by trade id). */
async function bookFills(ctx: AppContext, accountId: string, broker: AccountBroker): Promise<number> {
  const since = await withAccount(ctx.db, accountId, (tx) => lastFillTime(tx, accountId));
  const fills = await broker.broker.fills(Math.max(0, since));
  return withAccount(ctx.db, accountId, (tx) => recordFills(tx, accountId, broker.mode, fills, ctx.clock));
}

/** The books' balances after the cycle (opening + booked fills), with the exchange's holds: what reconciliation will compare. */
async function saveBookBalances(tx: Tx, accountId: string, at: number, exchange: Awaited<ReturnType<CachedVenue['balances']>>): Promise<void> {
  const opening = await latestBalances(tx, accountId, 'opening');
  if (!opening) return;
  const totals = await bookBalances(tx, accountId, opening);
  await saveBalances(tx, accountId, 'books', at, Object.fromEntries(Object.entries(totals).map(([a, total]) => [a, { total, hold: exchange[a]?.hold ?? 0 }])));
}
