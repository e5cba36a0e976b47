import type { OrderCause } from './intent.ts';

/**
 * What a fill (a trade) was: an entry, or an exit by its cause. An order's cause says why it was
 * placed (lib/strategy/intent.ts); a fill's says why the position changed — so a protective stop
 * the cycle re-placed (`protect`) or moved (`stop-move`) trades as a `stop` when it fires, exactly
 * like a stop the exchange attached to an entry. This vocabulary is what orders' fills, trades.csv,
 * the trade reports and the adaptation share.
 */
export const TRADE_CAUSES = ['entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt'] as const;
export type TradeCause = (typeof TRADE_CAUSES)[number];

/** Every order cause, as stored in orders.cause (schema/orders.ts spells the same list). */
export const ORDER_CAUSES = ['entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt', 'stop-move', 'protect'] as const satisfies readonly OrderCause[];
// The list is complete: a cause added to OrderCause but not here fails to compile (the type names it).
type Unlisted = Exclude<OrderCause, (typeof ORDER_CAUSES)[number]>;
export const ORDER_CAUSES_COMPLETE: [Unlisted] extends [never] ? true : Unlisted = true;

/** The cause a fill of an order with this cause trades under. */
export function tradeCause(order: OrderCause): TradeCause {
  return order === 'protect' || order === 'stop-move' ? 'stop' : order;
}

/** Exits the strategy's thresholds are judged on: the hedge's sales and entries are not exits of a trade. */
export const isStrategyExit = (c: TradeCause): c is 'stop' | 'take-profit' | 'signal' | 'halt' => c === 'stop' || c === 'take-profit' || c === 'signal' || c === 'halt';
