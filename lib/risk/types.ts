import type { Balances, MarketSpec, OrderRequest } from '../exchange/types.ts';
import type { TradingStateName } from './drawdown.ts';
import type { RiskSettings } from './settings.ts';

export type RiskCode =
  | 'INVALID_ORDER' // malformed intent: non-positive amount, missing price, unknown kind
  | 'NOT_SPOT_USD' // pair unknown, not USD-quoted, or not in the account's spot universe
  | 'LONG_ONLY' // an entry that sells or an exit/stop move that buys: spot has no shorting
  | 'MARKET_NOT_TRADABLE' // market status forbids this order (cancel_only, …)
  | 'NO_PRICE' // no mark price to value the order against
  | 'BELOW_EXCHANGE_MINIMUM' // under ordermin/costmin after lot rounding
  | 'EXCEEDS_FREE_BALANCE'
  | 'EXCEEDS_PAIR_EXPOSURE'
  | 'EXCEEDS_CORRELATED_EXPOSURE'
  | 'DAILY_DRAWDOWN_HALT' // HALTED: no entries
  | 'REDUCING_EXITS_ONLY' // REDUCING: exits only
  | 'EDGE_BELOW_COSTS'
  | 'NO_STOP_LOSS';

export type RiskVerdict =
  | { ok: true; order: OrderRequest; adjusted?: string }
  | { ok: false; code: RiskCode; detail: string };

export interface RiskPosition {
  qty: number; // base units held
  avgPrice: number;
  markPrice: number;
}

export interface RiskContext {
  settings: RiskSettings;
  tradingState: TradingStateName;
  balances: Balances;
  /** Open longs by pair ("BTC/USD"). */
  positions: Readonly<Record<string, RiskPosition>>;
  /**
   * USD notional of the account's open (resting) buy orders by pair: each one's unfilled remainder
   * valued at the higher of its limit and the mark (`restingBuyNotional` builds it from open
   * orders). The pair and group caps count it next to `positions`, because a resting buy is
   * exposure already committed: when it fills, the position grows whatever else was approved
   * meanwhile. `reserveApproved` adds approved non-market buys here.
   */
  resting: Readonly<Record<string, number>>;
  /** Mark prices by pair, for pairs without a position (a position's markPrice is used otherwise). */
  prices: Readonly<Record<string, number>>;
  /** Account equity in USD, marked to market. */
  equity: number;
  markets: Readonly<Record<string, MarketSpec>>;
  /** Pair → correlated group index (from correlationGroups); a pair absent here is its own group. */
  groupOf: Readonly<Record<string, number>>;
  /** Expected slippage per pair (fraction); settings.defaultSlippage otherwise. */
  slippage: Readonly<Record<string, number>>;
  /** USD set aside for the hedge target: entries may spend only free USD above it (hedge legs may use it). */
  reservedUsd?: number;
}
