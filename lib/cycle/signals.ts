import type { Candle } from '../market/candle.ts';
import { baselineSignal, baselineWarmup, defaultBaselineOptions } from '../strategy/baseline.ts';
import type { Signal } from '../strategy/signal.ts';

/**
 * Scoring: one signal per pair from its closed candles up to `asOf` (null while history is too short).
 * The `score` function and the backtest call the same provider, so both see the same signals.
 */
export interface SignalProvider {
  readonly name: string;
  /** How many of the newest candles the provider reads. */
  readonly lookback: number;
  /** Other pairs whose candles the provider reads (cross-asset features), e.g. BTC/USD. */
  readonly companions?: readonly string[];
  /** `others`: every loaded pair's candles up to `asOf` (at least the companions), for cross-asset features. */
  signal(history: readonly Candle[], asOf: number, others?: Readonly<Record<string, readonly Candle[]>>): Signal | null;
}

export const baselineProvider: SignalProvider = {
  name: 'baseline',
  lookback: defaultBaselineOptions.lookback,
  signal(history, asOf) {
    const warm = baselineWarmup(defaultBaselineOptions);
    let closed = history.length;
    while (closed > 0 && history[closed - 1]!.openTime + history[closed - 1]!.interval * 1000 > asOf) closed--;
    return closed < warm ? null : baselineSignal(history, { asOf });
  },
};
