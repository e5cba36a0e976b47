import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { equitySnapshots, fills, hedgeHistory, hedgeState, orders, positions, riskEvents, signals, tradingState } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import type { HedgeTarget } from '../hedge/policy.ts';
import type { TradingState } from '../risk/drawdown.ts';
import type { Regime, Signal } from '../strategy/signal.ts';
import type { AccountBook } from './book.ts';
import type { EquitySnapshot } from './hedge-phase.ts';
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

export function dbJournal(tx: Tx, accountId: string, mode: 'sim' | 'live', clock: Clock, decidedAt: number): Journal {
  return {
    async beforeSubmit(intent, order) {
      // Persist first: a crash after sending leaves a pending row, and the retry looks the order up by its client id.
      const inserted = await tx
        .insert(orders)
        .values({
          accountId,
          clientId: order.clientId,
          mode,
          pair: order.pair,
          side: order.side,
          type: order.type,
          intent: intent.kind,
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
      return inserted.length ? 'send' : 'lookup';
    },
    async afterSubmit(intent, order, result) {
      const set =
        result.status === 'accepted'
          ? { exchangeId: result.order.id, status: result.order.status, filled: str(result.order.filled), avgPrice: result.order.avgPrice === null ? null : str(result.order.avgPrice), fee: str(result.order.fee), updatedAt: new Date(clock.now()) }
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
  };
}

/** The newest fill already booked, so each cycle asks the venue only for what is new. */
export async function lastFillTime(tx: Tx, accountId: string): Promise<number> {
  const [r] = await tx.select({ ts: fills.ts }).from(fills).where(eq(fills.accountId, accountId)).orderBy(desc(fills.ts)).limit(1);
  return r ? r.ts.getTime() : -1;
}

/**
 * Books venue fills once each (unique trade id). A fill of an order the cycle did not send itself —
 * an attached stop the exchange created — gets an orders row of intent `protective`.
 */
export async function recordFills(tx: Tx, accountId: string, mode: 'sim' | 'live', list: readonly CycleFill[], clock: Clock): Promise<number> {
  let booked = 0;
  for (const f of list) {
    const clientId = f.clientId ?? `exchange-${f.orderId}`;
    let [o] = await tx.select({ id: orders.id, modelVersion: orders.modelVersion }).from(orders).where(and(eq(orders.accountId, accountId), inArray(orders.clientId, [clientId]))).limit(1);
    if (!o) [o] = await tx.select({ id: orders.id, modelVersion: orders.modelVersion }).from(orders).where(and(eq(orders.accountId, accountId), eq(orders.exchangeId, f.orderId))).limit(1);
    if (!o) {
      [o] = await tx
        .insert(orders)
        .values({ accountId, clientId, exchangeId: f.orderId, mode, pair: f.pair, side: f.side, type: 'stop-loss', intent: 'protective', amount: str(f.amount), status: 'open', reason: 'protective order attached to an entry', decidedAt: new Date(f.time) })
        .returning({ id: orders.id, modelVersion: orders.modelVersion });
    }
    const inserted = await tx
      .insert(fills)
      .values({
        accountId,
        orderId: o!.id,
        tradeId: f.id,
        clientId: f.clientId,
        pair: f.pair,
        side: f.side,
        price: str(f.price),
        qty: str(f.amount),
        fee: str(f.fee),
        realizedPnl: str(f.realizedPnl ?? 0),
        liquidity: f.liquidity,
        modelVersion: o!.modelVersion,
        ts: new Date(f.time),
      })
      .onConflictDoNothing({ target: [fills.accountId, fills.tradeId] })
      .returning({ id: fills.id });
    if (!inserted.length) continue;
    booked++;
    await tx
      .update(orders)
      .set({ filled: sql`${orders.filled} + ${str(f.amount)}`, fee: sql`${orders.fee} + ${str(f.fee)}`, updatedAt: new Date(clock.now()) })
      .where(eq(orders.id, o!.id));
    await appendAudit(tx, { action: 'trade', accountId, details: { tradeId: f.id, clientId: f.clientId, pair: f.pair, side: f.side, price: f.price, qty: f.amount, fee: f.fee, realizedPnl: f.realizedPnl ?? 0, mode } }, clock);
  }
  return booked;
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

/** Signals stored by `score` for the bar at `barTime`; an ML champion's signal wins over the baseline's. */
export async function loadSignals(tx: Tx, pairs: readonly string[], barTime: number): Promise<Record<string, Signal | null>> {
  const rows = pairs.length ? await tx.select().from(signals).where(and(inArray(signals.pair, [...pairs]), eq(signals.ts, new Date(barTime)))) : [];
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

