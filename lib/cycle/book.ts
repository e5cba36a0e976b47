import type { PreviousTarget } from '../hedge/policy.ts';
import type { TradingState } from '../risk/drawdown.ts';

/** Protection recorded with an open long: the stop the exchange holds, the take-profit the cycle enforces. */
export interface Protection {
  stopLoss: number;
  takeProfit: number | null;
  avgPrice: number;
  openedAt: number;
}

/**
 * What an account carries from one cycle to the next besides the venue's own state. Live: rows of
 * positions, trading_state and hedge_state; backtest: the same values kept by the backtest loop.
 */
export interface AccountBook {
  protection: Record<string, Protection>;
  tradingState: TradingState | null;
  dayStart: { time: number; equity: number } | null;
  hedge: PreviousTarget | null;
  peakEquity: number;
}

export const emptyBook = (): AccountBook => ({ protection: {}, tradingState: null, dayStart: null, hedge: null, peakEquity: 0 });
