import { and, desc, eq, gte, inArray, or, type SQL } from 'drizzle-orm';
import { auditLog, fills, orders, riskEvents } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import type { KrakenBroker } from '../exchange/kraken-broker.ts';
import { ownMoves, reconcile, type ExchangeOrder, type ReconcileResult, type Unexplained } from '../exchange/kraken-reconcile.ts';
import type { Balances, BrokerOrder, Fill } from '../exchange/types.ts';
import { attachedCause, bookBalances, lastLiveCycleStart, latestBalances, recordFills, saveBalances } from './live-store.ts';

/** How far back of the last clean cycle's start the exchange is read again: clock skew and late trades. */
const OVERLAP_MS = 3_600_000;
/** Without any earlier live cycle, the window reaches back this far (and never before going live). */
const FIRST_WINDOW_MS = 7 * 86_400_000;

export interface ReconcileOutcome {
  unexplained: Unexplained[];
  updates: number;
  /**
   * Books the fills and applies the statuses found (started at the first call, the same promise
   * after): the caller starts it once the cycle's orders are out — the cycle trades from the
   * exchange's state just read, not from these rows, and the writes would compete with the orders'
   * own. Whoever writes rows this touches (or reads the books' balances) waits for it first. A
   * difference nobody explains is on record before reconcileWithExchange returns.
   */
  book: () => Promise<number>;
  /** The exchange's balances as read, for the cycle to start from. */
  balances: Balances;
  openOrders: ExchangeOrder[];
  /**
   * Set when the exchange moved since this process's last job of the account only as the orders
   * that job left resting explain (see `ownMoves`): nothing was compared yet, and the job reconciles
   * after its orders (`reconcileAfterOrders`, from this window start) instead of before them.
   */
  after: { since: number } | null;
}

/** The exchange's side of a comparison. */
interface Snapshot {
  orders: ExchangeOrder[];
  fills: Fill[];
  balances: Balances;
}

/**
 * Every live cycle starts here: the books against Kraken — orders (open, closed, and any order the
 * books still hold open however old, asked for by id), fills and balances (the opening balances plus
 * every booked fill must equal what the exchange holds). What can be explained is applied (statuses,
 * fills booked once by trade id, the conditional closes Kraken created); anything else is returned
 * so the caller halts the account (fail closed). A balance difference is read a second time before it
 * counts: a fill landing between two reads is not a difference. When the open orders and balances
 * already agree with the books, the histories are not read (see `quiet`). When they are not as this
 * process's last job of the account left them, the histories are read at once, beside the books —
 * unless the orders that job left resting explain the change (a stop or take-profit filled: see
 * `ownMoves`); then the comparison waits until the job's orders are out (`after`).
 */
export async function reconcileWithExchange(ctx: AppContext, accountId: string, broker: KrakenBroker, liveSince: number): Promise<ReconcileOutcome> {
  const now = ctx.clock.now();
  // The exchange's side first: its answers are the longest wait; the books are read meanwhile.
  const exchangeRead = Promise.all([broker.openOrders(), broker.balances()]);
  exchangeRead.catch(() => undefined); // awaited below; a failure of the books' read must not leave it unhandled
  // The window starts a little before the last clean live cycle: this process's own when it ran it,
  // else the books' record of it. When this process's last job left the exchange otherwise than it
  // is now, something filled or changed since: the histories are needed, and are read at once.
  const left = leftBehind.get(broker);
  leftBehind.delete(broker); // a job that does not end cleanly leaves the next one nothing to compare with
  const since = windowStart(now, liveSince, left ? left.startedAt : await withAccount(ctx.db, accountId, (tx) => lastLiveCycleStart(tx, accountId)));
  // Only the orders that job left resting moved since: the histories can wait until the orders are out.
  const moved = left ? exchangeRead.then(([open, balances]) => (fingerprint(open, balances) === left.fingerprint ? 'nothing' : ownMoves(left, open, balances) ? 'own' : 'other')) : Promise.resolve(null);
  const early = Promise.all([exchangeRead, moved]).then(([[open, balances], m]) => (m === 'other' ? historiesBeside(broker, since, open, balances) : null));
  early.catch(() => undefined); // awaited below, unless the books agree after all (the orders then queue behind it for the key)
  const [[open, balances], first, m] = await Promise.all([exchangeRead, readLocalBooks(ctx, accountId, since), moved]);
  const settled = { balances, openOrders: open, book: () => Promise.resolve(0) };
  if (quiet(first, open, balances)) return { unexplained: [], updates: 0, ...settled, after: null };
  if (m === 'own' && first.books !== null) return { unexplained: [], updates: 0, ...settled, after: { since } };
  const { r, exchange, opening } = await compare(ctx, accountId, broker, since, { open, balances, histories: early, local: first });
  // Nothing to write in the usual hour: no updates, nothing unexplained, the books already opened.
  const write = r.updates.length || r.unexplained.length || !opening;
  let booking: Promise<number> | null = null;
  const book = () => (booking ??= write ? withAccount(ctx.db, accountId, (tx) => apply(ctx, tx, accountId, r, exchange, now)) : Promise.resolve(0));
  if (r.unexplained.length) await book(); // fail closed: the mismatch is audited before the account halts
  return { unexplained: r.unexplained, updates: r.updates.length, book, balances: exchange.balances, openOrders: exchange.orders.filter((o) => o.status === 'open' || o.status === 'pending'), after: null };
}

/**
 * The comparison a job put off (`ReconcileOutcome.after`), once its orders are out and journalled:
 * the exchange's open orders and balances as the job leaves them, its histories since `since`, the
 * books as they are now (this job's orders included). What it explains is booked at once (the
 * job's own fills and the ones it found, each once). What it does not explain is returned, neither
 * audited nor halted on: so soon after the orders Kraken's histories may not show yet what its
 * balances do, and the caller leaves the next job to compare before it trades (and halt then).
 */
export async function reconcileAfterOrders(ctx: AppContext, accountId: string, broker: KrakenBroker, since: number, open: readonly ExchangeOrder[], balances: Balances): Promise<{ unexplained: Unexplained[]; booked: number }> {
  const local = await readLocalBooks(ctx, accountId, since);
  const { r, exchange } = await compare(ctx, accountId, broker, since, { open, balances, histories: null, local });
  const booked = r.updates.length ? await withAccount(ctx.db, accountId, (tx) => apply(ctx, tx, accountId, r, exchange, ctx.clock.now(), false)) : 0;
  return { unexplained: r.unexplained, booked };
}

/**
 * The books against the exchange's side: its open orders and balances as read, completed by the
 * histories (`histories` when already being read). A balance difference has both sides read again
 * once before it counts (the account's lock keeps other writers out of the books).
 */
async function compare(
  ctx: AppContext,
  accountId: string,
  broker: KrakenBroker,
  since: number,
  read: { open: readonly ExchangeOrder[]; balances: Balances; histories: Promise<Snapshot | null> | null; local: LocalBooks },
): Promise<{ r: ReconcileResult; exchange: Snapshot; opening: boolean }> {
  let outcome: { r: ReconcileResult; exchange: Snapshot; opening: boolean } | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const [exchange, local] =
      attempt === 0 ? [(await read.histories) ?? (await historiesBeside(broker, since, read.open, read.balances)), read.local] : await Promise.all([broker.exchangeSnapshot(since), readLocalBooks(ctx, accountId, since)]);
    // Orders the exchange names that the window did not bring (a conditional close's entry, a fill's order).
    const known = new Set(local.orders.map((o) => o.exchangeId));
    const named = [...new Set([...exchange.orders.flatMap((o) => [o.id, ...(o.parentId ? [o.parentId] : [])]), ...exchange.fills.map((f) => f.orderId)])].filter((id) => !known.has(id));
    if (named.length) local.orders.push(...(await withAccount(ctx.db, accountId, (tx) => localOrders(tx, accountId, inArray(orders.exchangeId, named)))));
    // An order the books hold open but the window does not show (a stop older than it): ask for it by id.
    const seen = new Set(exchange.orders.map((o) => o.id));
    const unseen = local.orders.filter((o) => o.exchangeId !== null && !seen.has(o.exchangeId) && !TERMINAL.has(o.status)).map((o) => o.exchangeId!);
    if (unseen.length) exchange.orders.push(...(await broker.ordersById(unseen)));
    const r = reconcile({ local: { orders: local.orders, fills: local.fills, ...(local.books ? { balances: local.books } : {}) }, exchange });
    outcome = { r, exchange, opening: local.books !== null };
    if (!r.unexplained.length || r.unexplained.some((u) => u.kind !== 'balance_mismatch')) break;
  }
  return outcome!;
}

const TERMINAL = new Set(['closed', 'canceled', 'expired', 'rejected']);

/** The exchange's side from open orders and balances already read, plus the closed orders and trades since `since`. */
async function historiesBeside(broker: KrakenBroker, since: number, open: readonly ExchangeOrder[], balances: Balances): Promise<Snapshot> {
  const closed = await broker.closedOrders(since);
  const ids = new Set(open.map((o) => o.id));
  return { orders: [...open, ...closed.filter((o) => !ids.has(o.id))], fills: await broker.fills(since), balances };
}

/**
 * The usual hour: the exchange's open orders are exactly the ones the books hold open, none filled
 * further, and its balances are the books' — then nothing filled, was cancelled or placed behind
 * our back, and the order and trade history (four points on Kraken's counter) need not be read.
 */
function quiet(local: LocalBooks, open: readonly ExchangeOrder[], balances: Balances): boolean {
  if (local.books === null) return false; // the books have not opened yet
  const mine = local.orders.filter((o) => !TERMINAL.has(o.status));
  if (mine.length !== open.length || mine.some((o) => o.exchangeId === null)) return false;
  const r = reconcile({ local: { orders: mine, fills: [], balances: local.books }, exchange: { orders: open, fills: [], balances } });
  return r.updates.length === 0 && r.unexplained.length === 0 && r.matched.length === open.length;
}

const localOrders = (tx: Tx, accountId: string, which: SQL | undefined) =>
  tx
    .select({ clientId: orders.clientId, exchangeId: orders.exchangeId, status: orders.status, filled: orders.filled })
    .from(orders)
    .where(and(eq(orders.accountId, accountId), eq(orders.mode, 'live'), which))
    .then((rows) => rows.map((o) => ({ ...o, filled: Number(o.filled) })));

/** The books' side of reconciliation (readLocalBooks). */
type LocalBooks = Awaited<ReturnType<typeof readLocalBooks>>;

/**
 * The books' side: live orders decided in the window or still open, fills in the window, expected
 * balances (none before the books open) — in two transactions side by side (each runs its queries
 * one after the other), read while Kraken is asked for its side.
 */
async function readLocalBooks(ctx: AppContext, accountId: string, since: number) {
  const [trading, books] = await Promise.all([
    withAccount(ctx.db, accountId, async (tx) => ({
      orders: await localOrders(tx, accountId, or(gte(orders.decidedAt, new Date(since)), inArray(orders.status, ['pending', 'open', 'unknown']))),
      fills: await tx
        .select({ id: fills.tradeId, orderId: orders.exchangeId, amount: fills.qty })
        .from(fills)
        .innerJoin(orders, eq(orders.id, fills.orderId))
        .where(and(eq(fills.accountId, accountId), eq(orders.mode, 'live'), gte(fills.ts, new Date(since)))),
    })),
    withAccount(ctx.db, accountId, async (tx) => {
      const opening = await currentOpening(tx, accountId);
      return opening ? bookBalances(tx, accountId, opening) : null;
    }),
  ]);
  return { orders: trading.orders, fills: trading.fills.map((f) => ({ ...f, amount: Number(f.amount) })), books };
}

/**
 * Where reconciliation starts reading at `now`: a little before the last clean live cycle's start
 * (clock skew and late trades), a week back without one — never before the account went live.
 */
function windowStart(now: number, liveSince: number, lastCleanStart: number | null): number {
  return Math.max(liveSince, lastCleanStart === null ? now - FIRST_WINDOW_MS : lastCleanStart - OVERLAP_MS);
}

/** What the account's last clean live job in this process left on the exchange, and when that job started. */
interface LeftBehind {
  fingerprint: string;
  startedAt: number;
  open: readonly BrokerOrder[];
  balances: Balances;
}
const leftBehind = new WeakMap<KrakenBroker, LeftBehind>();

/** A clean live job ends: the exchange as it leaves it (the next job compares before reading the histories). */
export function rememberExchange(broker: KrakenBroker, startedAt: number, open: readonly BrokerOrder[], balances: Balances): void {
  leftBehind.set(broker, { fingerprint: fingerprint(open, balances), startedAt, open: [...open], balances: { ...balances } });
}

const fingerprint = (open: readonly BrokerOrder[], balances: Balances): string =>
  JSON.stringify([
    open.map((o) => [o.id, o.status, o.amount, o.filled, o.price]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    Object.keys(balances)
      .sort()
      .map((a) => [a, balances[a]!.total, balances[a]!.hold]),
  ]);

/** The opening balances in force: none before the first reconciliation, and none again after an admin reset (re-based then). */
async function currentOpening(tx: Tx, accountId: string) {
  const opening = await latestBalances(tx, accountId, 'opening');
  if (!opening) return null;
  const [reset] = await tx.select({ ts: auditLog.ts }).from(auditLog).where(and(eq(auditLog.accountId, accountId), eq(auditLog.action, 'risk.reset'))).orderBy(desc(auditLog.id)).limit(1);
  return reset && reset.ts.getTime() > opening.ts ? null : opening;
}

/**
 * Writes what a comparison found: statuses, conditional closes, fills (each once), the opening
 * balances the first time, the audit. With `judged` false (differences found right after the
 * orders, left for the next job to judge) only what was explained is written.
 */
async function apply(ctx: AppContext, tx: Tx, accountId: string, r: ReconcileResult, exchange: Snapshot, now: number, judged = true): Promise<number> {
  const at = new Date(ctx.clock.now());
  const newFills: Fill[] = [];
  for (const u of r.updates) {
    if (u.kind === 'order')
      // Status and exchange id follow the exchange; filled, fee and price follow the booked fills.
      await tx.update(orders).set({ exchangeId: u.exchangeId, status: u.status, updatedAt: at }).where(and(eq(orders.accountId, accountId), eq(orders.clientId, u.clientId)));
    else if (u.kind === 'not_placed')
      await tx.update(orders).set({ status: 'rejected', rejectCode: 'NOT_PLACED', updatedAt: at }).where(and(eq(orders.accountId, accountId), eq(orders.clientId, u.clientId)));
    else if (u.kind === 'child')
      await tx
        .insert(orders)
        .values({ accountId, clientId: u.order.clientId ?? `exchange-${u.order.id}`, exchangeId: u.order.id, mode: 'live', pair: u.order.pair, side: u.order.side, type: u.order.type, intent: 'protective', cause: attachedCause(u.order.type), amount: String(u.order.amount), price: u.order.price === null ? null : String(u.order.price), status: u.order.status, reason: `conditional close of ${u.parentClientId}`, decidedAt: new Date(u.order.createdAt) })
        .onConflictDoUpdate({ target: [orders.accountId, orders.clientId], set: { status: u.order.status, exchangeId: u.order.id, updatedAt: at } });
    else newFills.push(u.fill);
  }
  const booked = newFills.length ? await recordFills(tx, accountId, 'live', newFills, ctx.clock) : 0;
  // The books start from the exchange's balances the first time (and after an admin's reset), then
  // follow the fills; the job stores the books' balances when it ends.
  const unexplained = judged ? r.unexplained : [];
  if (!r.unexplained.length && !(await currentOpening(tx, accountId))) await saveBalances(tx, accountId, 'opening', now, exchange.balances);
  if (r.updates.length || unexplained.length)
    await appendAudit(tx, { action: unexplained.length ? 'reconcile.mismatch' : 'reconcile.applied', accountId, details: { updates: r.updates.length, fills: booked, unexplained } }, ctx.clock);
  if (unexplained.length) await tx.insert(riskEvents).values({ accountId, ts: at, code: 'RECONCILIATION_MISMATCH', detail: { unexplained } });
  return booked;
}
