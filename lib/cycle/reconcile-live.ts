import { and, desc, eq, gte, inArray, or } from 'drizzle-orm';
import { auditLog, fills, orders, riskEvents } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import type { KrakenBroker } from '../exchange/kraken-broker.ts';
import { reconcile, type ExchangeOrder, type ReconcileResult, type Unexplained } from '../exchange/kraken-reconcile.ts';
import type { Balances, Fill } from '../exchange/types.ts';
import { bookBalances, lastLiveCycleStart, latestBalances, recordFills, saveBalances } from './live-store.ts';

/** How far back of the last clean cycle's start the exchange is read again: clock skew and late trades. */
const OVERLAP_MS = 3_600_000;
/** Without any earlier live cycle, the window reaches back this far (and never before going live). */
const FIRST_WINDOW_MS = 7 * 86_400_000;

export interface ReconcileOutcome {
  unexplained: Unexplained[];
  updates: number;
  fills: number;
  /** The exchange's balances as read, for the cycle to start from. */
  balances: Balances;
  openOrders: ExchangeOrder[];
}

type Snapshot = Awaited<ReturnType<KrakenBroker['exchangeSnapshot']>>;

/**
 * Every live cycle starts here: the books against Kraken — orders (open, closed, and any order the
 * books still hold open however old, asked for by id), fills and balances (the opening balances plus
 * every booked fill must equal what the exchange holds). What can be explained is applied (statuses,
 * fills booked once by trade id, the conditional closes Kraken created); anything else is returned
 * so the caller halts the account (fail closed). A balance difference is read a second time before it
 * counts: a fill landing between two reads is not a difference.
 */
export async function reconcileWithExchange(ctx: AppContext, accountId: string, broker: KrakenBroker, liveSince: number): Promise<ReconcileOutcome> {
  const now = ctx.clock.now();
  const last = await withAccount(ctx.db, accountId, (tx) => lastLiveCycleStart(tx, accountId));
  const since = Math.max(liveSince, last === null ? now - FIRST_WINDOW_MS : last - OVERLAP_MS);
  let outcome: { r: ReconcileResult; exchange: Snapshot } | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    const exchange = await broker.exchangeSnapshot(since);
    const local = await withAccount(ctx.db, accountId, (tx) => loadLocal(tx, accountId, since, exchange));
    // An order the books hold open but the window does not show (a stop older than it): ask for it by id.
    const seen = new Set(exchange.orders.map((o) => o.id));
    const unseen = local.orders.filter((o) => o.exchangeId !== null && !seen.has(o.exchangeId) && !TERMINAL.has(o.status)).map((o) => o.exchangeId!);
    if (unseen.length) exchange.orders.push(...(await broker.ordersById(unseen)));
    const r = reconcile({ local: { orders: local.orders, fills: local.fills, ...(local.books ? { balances: local.books } : {}) }, exchange });
    outcome = { r, exchange };
    if (!r.unexplained.length || r.unexplained.some((u) => u.kind !== 'balance_mismatch')) break;
  }
  const { r, exchange } = outcome!;
  const booked = await withAccount(ctx.db, accountId, (tx) => apply(ctx, tx, accountId, r, exchange, now));
  return { unexplained: r.unexplained, updates: r.updates.length, fills: booked, balances: exchange.balances, openOrders: exchange.orders.filter((o) => o.status === 'open' || o.status === 'pending') };
}

const TERMINAL = new Set(['closed', 'canceled', 'expired', 'rejected']);

/** The books' side: live orders in the window, still open, or named by the exchange's data; fills in the window; expected balances. */
async function loadLocal(tx: Tx, accountId: string, since: number, exchange: Snapshot) {
  const ids = [...new Set([...exchange.orders.flatMap((o) => [o.id, ...(o.parentId ? [o.parentId] : [])]), ...exchange.fills.map((f) => f.orderId)])];
  const rows = await tx
    .select({ clientId: orders.clientId, exchangeId: orders.exchangeId, status: orders.status, filled: orders.filled })
    .from(orders)
    .where(
      and(
        eq(orders.accountId, accountId),
        eq(orders.mode, 'live'),
        or(gte(orders.decidedAt, new Date(since)), inArray(orders.status, ['pending', 'open', 'unknown']), ...(ids.length ? [inArray(orders.exchangeId, ids)] : [])),
      ),
    );
  const localFills = await tx
    .select({ id: fills.tradeId, orderId: orders.exchangeId, amount: fills.qty })
    .from(fills)
    .innerJoin(orders, eq(orders.id, fills.orderId))
    .where(and(eq(fills.accountId, accountId), eq(orders.mode, 'live'), gte(fills.ts, new Date(since))));
  const opening = await currentOpening(tx, accountId);
  return {
    orders: rows.map((o) => ({ ...o, filled: Number(o.filled) })),
    fills: localFills.map((f) => ({ ...f, amount: Number(f.amount) })),
    books: opening ? await bookBalances(tx, accountId, opening) : null,
  };
}

/** The opening balances in force: none before the first reconciliation, and none again after an admin reset (re-based then). */
async function currentOpening(tx: Tx, accountId: string) {
  const opening = await latestBalances(tx, accountId, 'opening');
  if (!opening) return null;
  const [reset] = await tx.select({ ts: auditLog.ts }).from(auditLog).where(and(eq(auditLog.accountId, accountId), eq(auditLog.action, 'risk.reset'))).orderBy(desc(auditLog.id)).limit(1);
  return reset && reset.ts.getTime() > opening.ts ? null : opening;
}

async function apply(ctx: AppContext, tx: Tx, accountId: string, r: ReconcileResult, exchange: Snapshot, now: number): Promise<number> {
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
        .values({ accountId, clientId: u.order.clientId ?? `exchange-${u.order.id}`, exchangeId: u.order.id, mode: 'live', pair: u.order.pair, side: u.order.side, type: u.order.type, intent: 'protective', amount: String(u.order.amount), price: u.order.price === null ? null : String(u.order.price), status: u.order.status, reason: `conditional close of ${u.parentClientId}`, decidedAt: new Date(u.order.createdAt) })
        .onConflictDoUpdate({ target: [orders.accountId, orders.clientId], set: { status: u.order.status, exchangeId: u.order.id, updatedAt: at } });
    else newFills.push(u.fill);
  }
  const booked = newFills.length ? await recordFills(tx, accountId, 'live', newFills, ctx.clock) : 0;
  if (!r.unexplained.length) {
    // The books start from the exchange's balances the first time (and after an admin's reset), then follow the fills.
    const opening = await currentOpening(tx, accountId);
    if (!opening) await saveBalances(tx, accountId, 'opening', now, exchange.balances);
    const totals = await bookBalances(tx, accountId, opening ?? { ts: now, totals: Object.fromEntries(Object.entries(exchange.balances).map(([a, b]) => [a, b.total])) });
    await saveBalances(tx, accountId, 'books', now, Object.fromEntries(Object.entries(totals).map(([a, total]) => [a, { total, hold: exchange.balances[a]?.hold ?? 0 }])));
  }
  if (r.updates.length || r.unexplained.length)
    await appendAudit(tx, { action: r.unexplained.length ? 'reconcile.mismatch' : 'reconcile.applied', accountId, details: { updates: r.updates.length, fills: booked, unexplained: r.unexplained } }, ctx.clock);
  if (r.unexplained.length) await tx.insert(riskEvents).values({ accountId, ts: at, code: 'RECONCILIATION_MISMATCH', detail: { unexplained: r.unexplained } });
  return booked;
}
