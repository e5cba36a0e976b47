/** Small causal indicators over plain arrays (oldest first); each reads only values up to `end`. */

/** Exponential moving average of the closes, seeded with the SMA of the first `period` values. */
export function ema(values: readonly number[], period: number, end = values.length): number {
  if (end < period) return Number.NaN;
  let e = 0;
  for (let i = 0; i < period; i++) e += values[i]!;
  e /= period;
  const a = 2 / (period + 1);
  for (let i = period; i < end; i++) e += a * (values[i]! - e);
  return e;
}

/** Simple moving average of the last `period` values before `end`. */
export function sma(values: readonly number[], period: number, end = values.length): number {
  if (end < period) return Number.NaN;
  let s = 0;
  for (let i = end - period; i < end; i++) s += values[i]!;
  return s / period;
}

export interface HLC {
  high: number;
  low: number;
  close: number;
}

/** Wilder's average true range over bars [start, end), seeded with the mean of the first `period` true ranges. */
export function atr(bars: readonly HLC[], period: number, end = bars.length, start = 0): number {
  if (end - start < period + 1) return Number.NaN;
  let a = 0;
  let prevClose = bars[start]!.close;
  for (let i = start + 1; i < end; i++) {
    const b = bars[i]!;
    const h = b.high;
    const l = b.low;
    let tr = h - l;
    const up = h > prevClose ? h - prevClose : prevClose - h;
    const down = l > prevClose ? l - prevClose : prevClose - l;
    if (up > tr) tr = up;
    if (down > tr) tr = down;
    prevClose = b.close;
    if (i <= start + period) {
      a += tr;
      if (i === start + period) a /= period;
    } else a = (a * (period - 1) + tr) / period;
  }
  return a;
}

/** Sample standard deviation of the last `window` log returns before `end`. */
export function logReturnStd(closes: readonly number[], window: number, end = closes.length): number {
  if (end < window + 1 || window < 2) return Number.NaN;
  let mean = 0;
  for (let i = end - window; i < end; i++) mean += Math.log(closes[i]! / closes[i - 1]!);
  mean /= window;
  let ss = 0;
  for (let i = end - window; i < end; i++) {
    const d = Math.log(closes[i]! / closes[i - 1]!) - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / (window - 1));
}
