import type { OrderRequest } from '../exchange/types.ts';

/** `protect`: a stop-loss sell the cycle places for held quantity no stop covers (see lib/cycle/protection.ts). */
export type IntentKind = 'entry' | 'exit' | 'stop-move' | 'hedge' | 'protect';

/**
 * Why an order trades, tagged once where it is decided and carried to orders, fills, trades.csv
 * and the adaptation that learns from them: a stop (a resting stop filled, or the cycle enforcing
 * one), a take-profit (enforced by the cycle as a market exit), the signal, the hedge, a halt's
 * flatten; entries, stop moves and re-placed protection say so.
 */
export type OrderCause = 'entry' | 'stop' | 'take-profit' | 'signal' | 'hedge' | 'halt' | 'stop-move' | 'protect';

/** Which signal a decision came from (null for hedge rebalances and risk-driven exits). */
export interface SignalRef {
  pair: string;
  time: number; // the signal's last closed candle open time
  modelVersion: string;
}

/**
 * A decision to trade, before the risk engine. Entries are buys with a stop-loss attached as
 * `order.close`; exits and stop moves are sells of a held long (spot, long-only); hedge intents
 * are either side.
 */
export interface OrderIntent {
  kind: IntentKind;
  cause: OrderCause;
  accountId: string;
  decisionTime: number; // epoch ms; with account, pair and kind it derives order.clientId
  order: OrderRequest;
  reason: string;
  signal: SignalRef | null;
  /** Expected return of the trade before costs (fraction); the risk engine refuses entries below round-trip costs. */
  expectedEdge: number;
  /** Entries: the protection to record with the position (the stop is also attached as order.close; the take-profit is enforced each cycle). */
  stops?: { stopLoss: number; takeProfit: number };
  /** Stop moves: the stop price being replaced (the resting stops are amended to the new price). */
  replacesStop?: number;
}

/** The cause an intent of this kind has when nothing more specific decided it (an exit: the signal). */
export function kindCause(kind: IntentKind): OrderCause {
  return kind === 'exit' ? 'signal' : kind;
}
