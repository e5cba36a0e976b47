import type { Logger } from '../log.ts';
import type { AccountCycleResult } from './account-cycle.ts';
import type { Executed } from './execute.ts';
import type { MarketView } from './types.ts';

/**
 * What a cycle did, one info line per phase and account — bar, signal, decisions, orders, fills,
 * hedge, equity — each with structured fields (`phase`, `account`, …) and a msg a person can read
 * in a terminal. The order job logs the first two once the market view is built (before it trades)
 * and the rest once the cycle's results are stored.
 */

const iso = (t: number): string => new Date(t).toISOString().replace(':00.000Z', 'Z');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const num = (x: number): string => String(Number(x.toPrecision(6)));
const money = (x: number): string => x.toFixed(2);

export interface CycleLogBase {
  account: string;
  mode: 'sim' | 'live';
  barTime: number;
}

/** `bar` and `signal`: the market the account decides on. */
export function logMarket(log: Logger, b: CycleLogBase, view: MarketView, pairs: readonly string[]): void {
  const at = { account: b.account, mode: b.mode, bar: iso(b.barTime) };
  const closes = Object.fromEntries(pairs.map((p) => [p, view.bars[p]?.close ?? null]));
  log.info({ ...at, phase: 'bar', closes }, `${b.account}: bar ${at.bar} ${pairs.map((p) => `${p} ${closes[p] === null ? 'no bar' : num(closes[p]!)}`).join(', ')}`);
  const signals = pairs.map((p) => {
    const s = view.signals[p];
    return s ? { pair: p, probUp: Math.round(s.probUp * 1000) / 1000, regime: s.regime.label, model: s.modelVersion } : { pair: p, probUp: null, regime: null, model: null };
  });
  const text = signals.map((s) => (s.probUp === null ? `${s.pair} none` : `${s.pair} p=${s.probUp.toFixed(2)} ${s.regime} (${s.model})`)).join(', ');
  log.info({ ...at, phase: 'signal', signals }, `${b.account}: signals ${text}`);
}

const label = (e: Executed): string => `${e.intent.kind} ${e.intent.order.side} ${num(e.intent.order.amount)} ${e.intent.order.pair}`;
const outcome = (e: Executed): string => (e.result === null ? `refused ${e.code ?? ''}`.trim() : e.result.status);

/** `decisions`, `orders`, `fills`, `hedge` and `equity`: what the cycle did and where it left the account. */
export function logOutcome(log: Logger, b: CycleLogBase, c: AccountCycleResult, fills: number): void {
  const at = { account: b.account, mode: b.mode, bar: iso(b.barTime) };
  const o = c.order;
  const decided = o.executed.map((e) => ({ kind: e.intent.kind, pair: e.intent.order.pair, side: e.intent.order.side, amount: e.intent.order.amount, reason: e.intent.reason }));
  const protection = c.protection.flatMap((p) => p.actions.map((a) => `${a.kind} ${a.pair}`));
  log.info(
    { ...at, phase: 'decisions', state: o.tradingState.state, decisions: decided, protection, cancelledEntries: o.cancelledEntries.length },
    `${b.account}: ${o.tradingState.state}; ${decided.length ? decided.map((d) => `${d.kind} ${d.side} ${d.pair} (${d.reason})`).join('; ') : 'no trade decided'}${protection.length ? `; protection: ${protection.join(', ')}` : ''}`,
  );
  const executed = [...c.protection[0]!.placed, ...o.executed, ...c.hedge.executed, ...c.protection[1]!.placed];
  const orders = executed.map((e) => ({ what: label(e), outcome: outcome(e) }));
  const sent = executed.filter((e) => e.result?.status === 'accepted').length;
  log.info({ ...at, phase: 'orders', sent, refused: executed.filter((e) => e.result === null).length, orders }, `${b.account}: ${orders.length ? orders.map((x) => `${x.what}: ${x.outcome}`).join('; ') : 'no orders'}`);
  log.info({ ...at, phase: 'fills', fills }, `${b.account}: ${fills} fill(s) booked`);
  const h = c.hedge;
  log.info(
    { ...at, phase: 'hedge', hedgeMode: h.target.mode, target: h.target.target, actual: h.snapshot.hedgeRatio, legs: h.executed.length, reason: h.target.reason },
    `${b.account}: hedge ${h.target.mode} target ${pct(h.target.target)}, actual ${pct(h.snapshot.hedgeRatio)}${h.executed.length ? `, ${h.executed.length} rebalance order(s)` : ''} (${h.target.reason})`,
  );
  const s = h.snapshot;
  log.info(
    { ...at, phase: 'equity', equity: Math.round(s.equityUsd * 100) / 100, cash: Math.round(s.cashUsd * 100) / 100, drawdown: s.drawdown, state: o.tradingState.state },
    `${b.account}: equity ${money(s.equityUsd)} USD (cash ${money(s.cashUsd)}), drawdown from peak ${pct(s.drawdown)}, ${o.tradingState.state}`,
  );
}
