import { and, eq, gte } from 'drizzle-orm';
import { fills, orders, riskEvents } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { AppContext } from '../context.ts';
import { withAccount } from '../db/scope.ts';
import type { KrakenBroker } from '../exchange/kraken-broker.ts';
import { reconcile, type Unexplained } from '../exchange/kraken-reconcile.ts';
import { recordFills } from './live-store.ts';

const WINDOW_MS = 7 * 86_400_000;

/**
 * Every live cycle starts here: local orders and fills against Kraken's (open, closed, trades). What
 * can be explained is applied (statuses, fills, the conditional closes Kraken created); anything
 * else — an order nobody here decided, a fill that does not add up — is returned so the caller
 * halts the account (fail closed). Both outcomes are audited.
 */
export async function reconcileWithExchange(ctx: AppContext, accountId: string, broker: KrakenBroker, now: number): Promise<Unexplained[]> {
  const since = now - WINDOW_MS;
  const exchange = await broker.exchangeSnapshot(since);
  return withAccount(ctx.db, accountId, async (tx) => {
    const local = await tx
      .select({ clientId: orders.clientId, exchangeId: orders.exchangeId, status: orders.status, filled: orders.filled })
      .from(orders)
      .where(and(eq(orders.accountId, accountId), gte(orders.decidedAt, new Date(since))));
    const localFills = await tx
      .select({ id: fills.tradeId, orderId: orders.exchangeId, amount: fills.qty })
      .from(fills)
      .innerJoin(orders, eq(orders.id, fills.orderId))
      .where(and(eq(fills.accountId, accountId), gte(fills.ts, new Date(since))));
    const r = reconcile({
      local: { orders: local.map((o) => ({ ...o, filled: Number(o.filled) })), fills: localFills.map((f) => ({ ...f, amount: Number(f.amount) })) },
      exchange,
    });
    const newFills = [];
    for (const u of r.updates) {
      if (u.kind === 'order')
        await tx
          .update(orders)
          .set({ exchangeId: u.exchangeId, status: u.status, filled: String(u.filled), avgPrice: u.avgPrice === null ? null : String(u.avgPrice), fee: String(u.fee), updatedAt: new Date(ctx.clock.now()) })
          .where(and(eq(orders.accountId, accountId), eq(orders.clientId, u.clientId)));
      else if (u.kind === 'not_placed')
        await tx.update(orders).set({ status: 'rejected', rejectCode: 'NOT_PLACED', updatedAt: new Date(ctx.clock.now()) }).where(and(eq(orders.accountId, accountId), eq(orders.clientId, u.clientId)));
      else if (u.kind === 'child')
        await tx
          .insert(orders)
          .values({ accountId, clientId: u.order.clientId ?? `exchange-${u.order.id}`, exchangeId: u.order.id, mode: 'live', pair: u.order.pair, side: u.order.side, type: u.order.type, intent: 'protective', amount: String(u.order.amount), price: u.order.price === null ? null : String(u.order.price), status: u.order.status, reason: `conditional close of ${u.parentClientId}`, decidedAt: new Date(u.order.createdAt) })
          .onConflictDoNothing();
      else newFills.push(u.fill);
    }
    if (newFills.length) await recordFills(tx, accountId, 'live', newFills, ctx.clock);
    if (r.updates.length || r.unexplained.length)
      await appendAudit(tx, { action: r.unexplained.length ? 'reconcile.mismatch' : 'reconcile.applied', accountId, details: { updates: r.updates.length, unexplained: r.unexplained } }, ctx.clock);
    if (r.unexplained.length) await tx.insert(riskEvents).values({ accountId, ts: new Date(now), code: 'RECONCILIATION_MISMATCH', detail: { unexplained: r.unexplained } });
    return r.unexplained;
  });
}
