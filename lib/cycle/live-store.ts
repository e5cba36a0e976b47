import { and, desc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { accountCycles, balanceSnapshots, equitySnapshots, fills, hedgeHistory, hedgeState, orders, positions, riskEvents, signals, tradingState } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { oneTripForAccount } from '../db/scope.ts';
import type { HedgeTarget } from '../hedge/policy.ts';
import type { TradingState } from '../risk/drawdown.ts';
import type { Regime, Signal } from '../strategy/signal.ts';
import type { AccountBook } from './book.ts';
import type { EquitySnapshot } from './hedge-phase.ts';
import type { BrokerOrder } from '../exchange/types.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import { tradeCause } from '../strategy/trade-cause.ts';
import type { Journal } from './types.ts';
import type { CycleFill } from './venue.ts';

/**
 * The live path's persistence of what the cycle decides: the account book (positions' protection,
 * trading state, hedge state), orders before and after they are sent, fills with realised PnL,
 * refusals, equity snapshots — each account-scoped (call inside withAccount) and audited.
 */
const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: number): string => String(v);

export async function loadBook(tx: Tx, accountId: string): Promise<AccountBook> {
  const pos = await tx.select().from(positions).where(eq(positions.accountId, accountId));
  const [ts] = await tx.select().from(tradingState).where(eq(tradingState.accountId, accountId));
  const [hs] = await tx.select().from(hedgeState).where(eq(hedgeState.accountId, accountId));
  const protection: AccountBook['protection'] = {};
  for (const p of pos)
    if (Number(p.qty) > 0 && p.stopPrice !== null)
      protection[p.pair] = { stopLoss: Number(p.stopPrice), takeProfit: num(p.takeProfitPrice), avgPrice: Number(p.avgPrice), openedAt: p.openedAt?.getTime() ?? 0 };
  return {
    protection,
    tradingState: ts
      ? { state: ts.state, since: ts.since.getTime(), reason: ts.reason ?? '', dayKey: ts.dayKey, drawdown: ts.drawdown, referenceEquity: num(ts.referenceEquityUsd) }
      : null,
    dayStart: ts ? { time: ts.dayStartAt.getTime(), equity: Number(ts.dayStartEquityUsd) } : null,
    hedge: hs ? { target: hs.target, mode: hs.mode } : null,
    peakEquity: hs ? Number(hs.peakEquityUsd) : 0,
  };
}

export async function saveBook(tx: Tx, accountId: string, book: AccountBook, held: Record<string, number>, now: number): Promise<void> {
  const at = new Date(now);
  const pairs = new Set([...Object.keys(book.protection), ...Object.keys(held)]);
  const existing = await tx.select({ pair: positions.pair }).from(positions).where(eq(positions.accountId, accountId));
  for (const { pair } of existing) pairs.add(pair);
  for (const pair of pairs) {
    const p = book.protection[pair];
    const qty = held[pair] ?? 0;
    const values = {
      qty: str(qty),
      avgPrice: str(p?.avgPrice ?? 0),
      stopPrice: p ? str(p.stopLoss) : null,
      takeProfitPrice: p?.takeProfit !== null && p?.takeProfit !== undefined ? str(p.takeProfit) : null,
      openedAt: p ? new Date(p.openedAt) : null,
      updatedAt: at,
    };
    await tx.insert(positions).values({ accountId, pair, ...values }).onConflictDoUpdate({ target: [positions.accountId, positions.pair], set: values });
  }
  const s = book.tradingState;
  if (s && book.dayStart) {
    const values = {
      state: s.state,
      since: new Date(s.since),
      reason: s.reason,
      dayKey: s.dayKey,
      dayStartAt: new Date(book.dayStart.time),
      dayStartEquityUsd: str(book.dayStart.equity),
      drawdown: s.drawdown,
      referenceEquityUsd: s.referenceEquity === null ? null : str(s.referenceEquity),
      updatedAt: at,
    };
    await tx.insert(tradingState).values({ accountId, ...values }).onConflictDoUpdate({ target: tradingState.accountId, set: values });
  }
}

/** Trading-state transitions are risk events and audit rows (REDUCING, HALTED, a new day). */
export async function recordTransition(tx: Tx, accountId: string, from: TradingState | null, to: TradingState, clock: Clock, extra: Record<string, unknown>): Promise<void> {
  const detail = { from: from?.state ?? null, to: to.state, reason: to.reason, drawdown: to.drawdown, ...extra };
  await tx.insert(riskEvents).values({ accountId, ts: new Date(to.since), code: `STATE_${to.state}`, detail });
  await appendAudit(tx, { action: 'risk.state', accountId, details: detail }, clock);
}

/** The orders row's intent for an intent kind (a protective stop the cycle placed is `protective`, like an attached one). */
const rowIntent = (kind: OrderIntent['kind']) => (kind === 'protect' ? 'protective' : kind);

/** An order's pending row (`orders`, status pending), written before it is sent; none if its client id has one already. */
function pendingOrderRow(db: Db, accountId: string, mode: 'sim' | 'live', decidedAt: number, intent: OrderIntent, order: OrderIntent['order']) {
  return db
    .insert(orders)
    .values({
      accountId,
      clientId: order.clientId,
      mode,
      pair: order.pair,
      side: order.side,
      type: order.type,
      intent: rowIntent(intent.kind),
      cause: intent.cause,
      amount: str(order.amount),
      price: order.price === undefined ? null : str(order.price),
      status: 'pending',
      reason: intent.reason,
      signalRef: intent.signal,
      modelVersion: intent.signal?.modelVersion ?? null,
      decidedAt: new Date(decidedAt),
    })
    .onConflictDoNothing({ target: [orders.accountId, orders.clientId] })
    .returning({ id: orders.id });
}

/**
 * The journal's beforeSubmit in one round trip (oneTripForAccount) for the live order job, where it
 * stands between the decision and every order sent: 'send', or 'lookup' when an earlier attempt
 * left the client id's row (the order may be on the exchange already).
 */
export async function insertPendingOrder(db: Db, accountId: string, mode: 'sim' | 'live', decidedAt: number, intent: OrderIntent, order: OrderIntent['order']): Promise<'send' | 'lookup'> {
  const rows = await oneTripForAccount(db, accountId, pendingOrderRow(db, accountId, mode, decidedAt, intent, order).toSQL());
  return rows.length ? 'send' : 'lookup';
}

export function dbJournal(tx: Tx, accountId: string, mode: 'sim' | 'live', clock: Clock, decidedAt: number): Journal {
  return {
    async beforeSubmit(intent, order) {
      // Persist first: a crash after sending leaves a pending row, and the retry looks the order up by its client id.
      const inserted = await pendingOrderRow(tx, accountId, mode, decidedAt, intent, order);
      return inserted.length ? 'send' : 'lookup';
    },
    async afterSubmit(intent, order, result) {
      // Filled quantity, fee and average price come from the booked fills (recordFills), never from here.
      const set =
        result.status === 'accepted'
          ? { exchangeId: result.order.id, status: result.order.status, amount: str(result.order.amount), updatedAt: new Date(clock.now()) }
          : { status: 'rejected' as const, rejectCode: result.code, updatedAt: new Date(clock.now()) };
      await tx.update(orders).set(set).where(and(eq(orders.accountId, accountId), eq(orders.clientId, order.clientId)));
      await appendAudit(
        tx,
        {
          action: result.status === 'accepted' ? 'order.submit' : 'order.rejected',
          accountId,
          details: { clientId: order.clientId, kind: intent.kind, pair: order.pair, side: order.side, type: order.type, amount: order.amount, price: order.price ?? null, mode, reason: intent.reason, result: result.status === 'accepted' ? { id: result.order.id, status: result.order.status } : { code: result.code, reason: result.reason } },
        },
        clock,
      );
    },
    async refused(intent, verdict) {
      await tx.insert(riskEvents).values({ accountId, ts: new Date(decidedAt), code: verdict.code, clientId: intent.order.clientId, detail: { kind: intent.kind, pair: intent.order.pair, side: intent.order.side, amount: intent.order.amount, detail: verdict.detail, reason: intent.reason } });
    },
    async amended(order, change, result, why) {
      const id = await orderRow(tx, accountId, mode, order, why);
      if (result.status === 'amended')
        await tx
          .update(orders)
          .set({ amount: str(result.order.amount), price: result.order.price === null ? null : str(result.order.price), status: result.order.status, updatedAt: new Date(clock.now()) })
          .where(eq(orders.id, id));
      await appendAudit(
        tx,
        { action: result.status === 'amended' ? 'order.amend' : 'order.amend_rejected', accountId, details: { exchangeId: order.id, clientId: order.clientId, pair: order.pair, change, mode, reason: why, ...(result.status === 'rejected' ? { code: result.code, detail: result.reason } : {}) } },
        clock,
      );
    },
    async cancelled(order, why) {
      const id = await orderRow(tx, accountId, mode, order, why);
      await tx.update(orders).set({ status: 'canceled', updatedAt: new Date(clock.now()) }).where(and(eq(orders.id, id), inArray(orders.status, ['pending', 'open', 'unknown'])));
      await appendAudit(tx, { action: 'order.cancel', accountId, details: { exchangeId: order.id, clientId: order.clientId, pair: order.pair, type: order.type, mode, reason: why } }, clock);
    },
  };
}

/**
 * The orders row of a venue order (by client id, else exchange id); an order the cycle did not send
 * itself — a stop the exchange attached to an entry — gets a row of intent `protective`, cause `stop`
 * (`take-profit` for a take-profit close: the cycle attaches stops only, but the row says what it is).
 */
async function orderRow(tx: Tx, accountId: string, mode: 'sim' | 'live', o: Pick<BrokerOrder, 'id' | 'clientId' | 'pair' | 'side' | 'type' | 'amount' | 'price' | 'status' | 'createdAt'>, why: string): Promise<string> {
  const byClient = o.clientId ? await tx.select({ id: orders.id }).from(orders).where(and(eq(orders.accountId, accountId), eq(orders.clientId, o.clientId))).limit(1) : [];
  const [found] = byClient.length ? byClient : await tx.select({ id: orders.id }).from(orders).where(and(eq(orders.accountId, accountId), eq(orders.exchangeId, o.id))).limit(1);
  if (found) return found.id;
  const [row] = await tx
    .insert(orders)
    .values({ accountId, clientId: o.clientId ?? `exchange-${o.id}`, exchangeId: o.id, mode, pair: o.pair, side: o.side, type: o.type, intent: 'protective', cause: attachedCause(o.type), amount: str(o.amount), price: o.price === null ? null : str(o.price), status: o.status, reason: `protective order attached to an entry (${why})`, decidedAt: new Date(o.createdAt) })
    .onConflictDoUpdate({ target: [orders.accountId, orders.clientId], set: { exchangeId: o.id } })
    .returning({ id: orders.id });
  return row!.id;
}

/** The cause of a close the exchange attached to an entry: what fires it. */
export const attachedCause = (type: string): 'stop' | 'take-profit' => (type.startsWith('take-profit') ? 'take-profit' : 'stop');

/**
 * Every order resting on the venue has its row: a stop the exchange attached to an entry that
 * filled this cycle is in the books when the cycle ends, not only after the next reconciliation.
 */
export async function recordOpenOrders(tx: Tx, accountId: string, mode: 'sim' | 'live', open: readonly BrokerOrder[]): Promise<void> {
  for (const o of open) await orderRow(tx, accountId, mode, o, 'resting on the venue at the end of a cycle');
}

/** The newest fill already booked, so each cycle asks the venue only for what is new. */
export async function lastFillTime(tx: Tx, accountId: string): Promise<number> {
  const [r] = await tx.select({ ts: fills.ts }).from(fills).where(eq(fills.accountId, accountId)).orderBy(desc(fills.ts)).limit(1);
  return r ? r.ts.getTime() : -1;
}

/**
 * Books venue fills exactly once each (unique exchange trade id), however they were found — the
 * order response, the lookup after an ambiguous submit, reconciliation. An order's filled quantity,
 * fee and average price are then derived from its booked fills, and an order whose fills reach its
 * amount is closed (a stop that fired, an entry that filled). Live fills get their realised PnL
 * from the books' average cost (the simulator reports its own).
 */
export async function recordFills(tx: Tx, accountId: string, mode: 'sim' | 'live', list: readonly CycleFill[], clock: Clock): Promise<number> {
  let booked = 0;
  const touched = new Set<string>();
  for (const f of [...list].sort((a, b) => a.time - b.time || a.id.localeCompare(b.id))) {
    const [seen] = await tx.select({ id: fills.id }).from(fills).where(and(eq(fills.accountId, accountId), eq(fills.tradeId, f.id))).limit(1);
    if (seen) continue;
    const orderId = await orderRow(tx, accountId, mode, { id: f.orderId, clientId: f.clientId, pair: f.pair, side: f.side, type: 'stop-loss', amount: f.amount, price: null, status: 'open', createdAt: f.time }, 'found by its fill');
    const [o] = await tx.select({ modelVersion: orders.modelVersion, cause: orders.cause }).from(orders).where(eq(orders.id, orderId));
    const cause = tradeCause(o?.cause ?? 'stop');
    const realizedPnl = f.realizedPnl ?? (mode === 'live' ? await realizedFromBooks(tx, accountId, f) : 0);
    const inserted = await tx
      .insert(fills)
      .values({
        accountId,
        orderId,
        tradeId: f.id,
        clientId: f.clientId,
        pair: f.pair,
        side: f.side,
        price: str(f.price),
        qty: str(f.amount),
        fee: str(f.fee),
        realizedPnl: str(realizedPnl),
        liquidity: f.liquidity,
        cause,
        modelVersion: o?.modelVersion ?? null,
        ts: new Date(f.time),
      })
      .onConflictDoNothing({ target: [fills.accountId, fills.tradeId] })
      .returning({ id: fills.id });
    if (!inserted.length) continue;
    booked++;
    touched.add(orderId);
    await appendAudit(tx, { action: 'trade', accountId, details: { tradeId: f.id, clientId: f.clientId, cause, pair: f.pair, side: f.side, price: f.price, qty: f.amount, fee: f.fee, realizedPnl, mode } }, clock);
  }
  if (touched.size) await refreshFromFills(tx, [...touched], clock);
  return booked;
}

/** filled / fee / avg_price of orders from their booked fills; an order filled to its amount is closed. */
async function refreshFromFills(tx: Tx, orderIds: string[], clock: Clock): Promise<void> {
  await tx.execute(sql`
    update orders o set
      filled = s.q, fee = s.f, avg_price = case when s.q > 0 then s.c / s.q end,
      status = case when s.q >= o.amount * (1 - 1e-9) and o.status in ('pending', 'open', 'unknown') then 'closed' else o.status end,
      updated_at = ${new Date(clock.now())}
    from (select order_id, sum(qty) as q, sum(fee) as f, sum(qty * price) as c from fills where order_id in (${sql.join(orderIds.map((id) => sql`${id}::uuid`), sql`, `)}) group by order_id) s
    where o.id = s.order_id`);
}

/**
 * Realised PnL of a live fill at the books' average cost: the pair's booked fills before it, replayed
 * (buys add their cost with fees, sells release cost pro rata). Buys realise nothing.
 */
async function realizedFromBooks(tx: Tx, accountId: string, f: CycleFill): Promise<number> {
  if (f.side === 'buy') return 0;
  const past = await tx
    .select({ side: fills.side, qty: fills.qty, price: fills.price, fee: fills.fee })
    .from(fills)
    .where(and(eq(fills.accountId, accountId), eq(fills.pair, f.pair), lte(fills.ts, new Date(f.time))))
    .orderBy(fills.ts, fills.tradeId);
  let qty = 0;
  let cost = 0;
  for (const p of past) {
    const q = Number(p.qty);
    if (p.side === 'buy') {
      qty += q;
      cost += q * Number(p.price) + Number(p.fee);
    } else if (qty > 0) {
      const out = Math.min(q, qty);
      cost -= (cost * out) / qty;
      qty -= out;
    }
  }
  const basis = qty > 0 ? (cost * Math.min(f.amount, qty)) / qty : 0;
  return f.amount * f.price - f.fee - basis;
}

export async function saveHedge(tx: Tx, accountId: string, book: AccountBook, target: HedgeTarget, actual: number, now: number, rebalanced: boolean): Promise<void> {
  const values = { mode: target.mode, target: target.target, actual, reason: target.reason, peakEquityUsd: str(book.peakEquity), updatedAt: new Date(now) };
  await tx.insert(hedgeState).values({ accountId, ...values }).onConflictDoUpdate({ target: hedgeState.accountId, set: values });
  if (target.changed || rebalanced) await tx.insert(hedgeHistory).values({ accountId, ts: new Date(now), mode: target.mode, target: target.target, actual, reason: target.reason });
}

export async function saveEquity(tx: Tx, accountId: string, s: EquitySnapshot): Promise<void> {
  const values = { equityUsd: str(s.equityUsd), cashUsd: str(s.cashUsd), positionsUsd: str(s.positionsUsd), hedgeRatio: s.hedgeRatio, drawdown: s.drawdown };
  await tx.insert(equitySnapshots).values({ accountId, ts: new Date(s.ts), ...values }).onConflictDoUpdate({ target: [equitySnapshots.accountId, equitySnapshots.ts], set: values });
}

/**
 * Signals stored by `score` for the bar at `barTime`; an ML champion's signal wins over the
 * baseline's. Global rows, one query: no transaction needed (a transaction is three round trips more).
 */
export async function loadSignals(db: Db, pairs: readonly string[], barTime: number): Promise<Record<string, Signal | null>> {
  const rows = pairs.length ? await db.select().from(signals).where(and(inArray(signals.pair, [...pairs]), eq(signals.ts, new Date(barTime)))) : [];
  const out: Record<string, Signal | null> = Object.fromEntries(pairs.map((p) => [p, null]));
  for (const r of rows.sort((a, b) => Number(a.modelVersion.startsWith('baseline')) - Number(b.modelVersion.startsWith('baseline')))) {
    if (out[r.pair]) continue;
    out[r.pair] = {
      pair: r.pair,
      time: r.ts.getTime(),
      probUp: r.probUp,
      expectedReturn: r.expectedReturn,
      horizonBars: r.horizonBars,
      regime: { label: r.regime, probs: r.regimeProbs as Record<Regime, number> },
      volatility: r.volatility,
      atrPct: r.atrPct,
      modelVersion: r.modelVersion,
    };
  }
  return out;
}

export async function saveSignal(tx: Tx, s: Signal): Promise<void> {
  const values = { probUp: s.probUp, expectedReturn: s.expectedReturn, horizonBars: s.horizonBars, regime: s.regime.label, regimeProbs: s.regime.probs, volatility: s.volatility, atrPct: s.atrPct };
  await tx.insert(signals).values({ pair: s.pair, ts: new Date(s.time), modelVersion: s.modelVersion, ...values }).onConflictDoUpdate({ target: [signals.pair, signals.ts, signals.modelVersion], set: values });
}


/** Stores balances per asset as `kind` at `ts` (replacing a set stored at the same time). */
export async function saveBalances(tx: Tx, accountId: string, kind: 'opening' | 'books', ts: number, balances: Readonly<Record<string, { total: number; hold: number }>>): Promise<void> {
  for (const [asset, b] of Object.entries(balances)) {
    const values = { total: str(b.total), hold: str(b.hold) };
    await tx
      .insert(balanceSnapshots)
      .values({ accountId, kind, ts: new Date(ts), asset, ...values })
      .onConflictDoUpdate({ target: [balanceSnapshots.accountId, balanceSnapshots.kind, balanceSnapshots.ts, balanceSnapshots.asset], set: values });
  }
}

/** The newest balance set of a kind, with its time; null when none was stored. */
export async function latestBalances(tx: Tx, accountId: string, kind: 'opening' | 'books'): Promise<{ ts: number; totals: Record<string, number> } | null> {
  // The newest snapshot's rows in one round trip (the job reads this before its first order).
  const mine = and(eq(balanceSnapshots.accountId, accountId), eq(balanceSnapshots.kind, kind));
  const newest = tx.select({ ts: sql`max(${balanceSnapshots.ts})` }).from(balanceSnapshots).where(mine);
  const rows = await tx.select({ ts: balanceSnapshots.ts, asset: balanceSnapshots.asset, total: balanceSnapshots.total }).from(balanceSnapshots).where(and(mine, eq(balanceSnapshots.ts, newest)));
  if (!rows.length) return null;
  return { ts: rows[0]!.ts.getTime(), totals: Object.fromEntries(rows.map((r) => [r.asset, Number(r.total)])) };
}

/**
 * The books' balances: the opening balances plus every live fill booked after the opening (buys add base
 * and cost USD with the fee, sells the reverse; Kraken charges spot fees in the quote currency).
 */
export async function bookBalances(tx: Tx, accountId: string, opening: { ts: number; totals: Record<string, number> }): Promise<Record<string, number>> {
  const out = { ...opening.totals };
  const rows = await tx
    .select({ pair: fills.pair, side: fills.side, qty: sql<string>`sum(${fills.qty})`, cost: sql<string>`sum(${fills.qty} * ${fills.price})`, fee: sql<string>`sum(${fills.fee})` })
    .from(fills)
    .innerJoin(orders, eq(orders.id, fills.orderId))
    .where(and(eq(fills.accountId, accountId), eq(orders.mode, 'live'), gt(fills.ts, new Date(opening.ts))))
    .groupBy(fills.pair, fills.side);
  for (const r of rows) {
    const [base, quote] = r.pair.split('/') as [string, string];
    const sign = r.side === 'buy' ? 1 : -1;
    out[base] = (out[base] ?? 0) + sign * Number(r.qty);
    out[quote] = (out[quote] ?? 0) - sign * Number(r.cost) - Number(r.fee);
  }
  return out;
}

export interface CycleRecord {
  barTime: number;
  outcome: 'done' | 'skipped' | 'halted' | 'failed';
  mode: 'sim' | 'live' | null;
  startedAt: number;
  finishedAt: number;
  detail: Record<string, unknown>;
}

/** One row per account and bar: how its order job ended (the last one wins when a job is retried). */
export async function recordCycle(tx: Tx, accountId: string, c: CycleRecord): Promise<void> {
  const values = { outcome: c.outcome, mode: c.mode, startedAt: new Date(c.startedAt), finishedAt: new Date(c.finishedAt), detail: c.detail };
  await tx.insert(accountCycles).values({ accountId, barTime: new Date(c.barTime), ...values }).onConflictDoUpdate({ target: [accountCycles.accountId, accountCycles.barTime], set: values });
}

/** When the last live cycle of the account finished cleanly (reconciliation reads the exchange from a little before it). */
export async function lastLiveCycleStart(tx: Tx, accountId: string): Promise<number | null> {
  const [r] = await tx
    .select({ startedAt: accountCycles.startedAt })
    .from(accountCycles)
    .where(and(eq(accountCycles.accountId, accountId), eq(accountCycles.mode, 'live'), eq(accountCycles.outcome, 'done')))
    .orderBy(desc(accountCycles.startedAt))
    .limit(1);
  return r ? r.startedAt.getTime() : null;
}
