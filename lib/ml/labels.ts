import type { Candle } from '../market/candle.ts';

/** Kraken's lowest-tier taker fee, paid on entry and on exit. */
export const DEFAULT_TAKER_FEE = 0.0026;

export interface LabelOptions {
  horizonBars: number;
  feeRate: number; // per side
}

export const DEFAULT_LABEL_OPTIONS: LabelOptions = { horizonBars: 24, feeRate: DEFAULT_TAKER_FEE };

/** Net return of buying at `entry` and selling at `exit`, paying `feeRate` on each side. */
export const netReturn = (entry: number, exit: number, feeRate: number): number => (exit / entry) * (1 - feeRate) * (1 - feeRate) - 1;

export interface Label {
  grossReturn: number; // close[i+h] / close[i] - 1
  netReturn: number;
  y: 0 | 1; // net forward return > 0
  endTime: number; // close time of bar i+h: the label is known from then on
}

/** Forward-return labels; null for the last `horizonBars` candles, whose outcome is not known yet. */
export function forwardLabels(candles: readonly Candle[], opts: LabelOptions = DEFAULT_LABEL_OPTIONS): (Label | null)[] {
  const { horizonBars: h, feeRate } = opts;
  if (!Number.isInteger(h) || h < 1) throw new Error(`horizonBars must be a positive integer, got ${h}`);
  return candles.map((c, i) => {
    const end = candles[i + h];
    if (!end) return null;
    const net = netReturn(c.close, end.close, feeRate);
    return { grossReturn: end.close / c.close - 1, netReturn: net, y: net > 0 ? 1 : 0, endTime: end.openTime + end.interval * 1000 };
  });
}
