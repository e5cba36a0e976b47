/** Small causal indicators over plain arrays (oldest first); each reads only values up to `end`. */

/** Exponential moving average of the closes, seeded with the SMA of the first `period` values. */
export function ema(values: ArrayLike<number>, period: number, end = values.length): number {
  if (end < period) return Number.NaN;
  let e = 0;
  for (let i = 0; i < period; i++) e += values[i]!;
  e /= period;
  const a = 2 / (period + 1);
  for (let i = period; i < end; i++) e += a * (values[i]! - e);
  return e;
}

/**
 * [ema(values, fast), ema(values, slow)] in one pass: the two recurrences are independent chains of
 * dependent operations, so interleaving them runs them side by side — the same arithmetic per chain.
 */
export function emaPair(values: ArrayLike<number>, fast: number, slow: number): [number, number] {
  const end = values.length;
  if (!(fast < slow) || end < slow) return [ema(values, fast), ema(values, slow)];
  const af = 2 / (fast + 1);
  const as = 2 / (slow + 1);
  let f = 0;
  let s = 0;
  let i = 0;
  for (; i < fast; i++) {
    f += values[i]!;
    s += values[i]!;
  }
  f /= fast;
  for (; i < slow; i++) {
    f += af * (values[i]! - f);
    s += values[i]!;
  }
  s /= slow;
  for (; i < end; i++) {
    const x = values[i]!;
    f += af * (x - f);
    s += as * (x - s);
  }
  return [f, s];
}

/** Simple moving average of the last `period` values before `end`. */
export function sma(values: ArrayLike<number>, period: number, end = values.length): number {
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

/** The true range of a bar: its high-low range widened to the previous close. */
export function trueRange(high: number, low: number, prevClose: number): number {
  let tr = high - low;
  const up = high > prevClose ? high - prevClose : prevClose - high;
  const down = low > prevClose ? low - prevClose : prevClose - low;
  if (up > tr) tr = up;
  if (down > tr) tr = down;
  return tr;
}

/** Wilder's average true range over bars [start, end), seeded with the mean of the first `period` true ranges. */
export function atr(bars: readonly HLC[], period: number, end = bars.length, start = 0): number {
  if (end - start < period + 1) return Number.NaN;
  let a = 0;
  let prevClose = bars[start]!.close;
  for (let i = start + 1; i < end; i++) {
    const b = bars[i]!;
    const tr = trueRange(b.high, b.low, prevClose);
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

/** Sample standard deviation of log returns already computed (oldest first): logReturnStd's arithmetic, same order. */
export function stdOfLogReturns(returns: ArrayLike<number>): number {
  const window = returns.length;
  if (window < 2) return Number.NaN;
  let mean = 0;
  for (let i = 0; i < window; i++) mean += returns[i]!;
  mean /= window;
  let ss = 0;
  for (let i = 0; i < window; i++) {
    const d = returns[i]! - mean;
    ss += d * d;
  }
  return Math.sqrt(ss / (window - 1));
}

interface LogReturnMemo {
  prev: unknown[];
  cur: unknown[];
  values: Float64Array;
}
const logReturnMemos = new WeakMap<readonly unknown[], LogReturnMemo>();

/**
 * `Math.log(bars[i].close / bars[i - 1].close)` for i in [from, to) (from ≥ 1), as a view indexed
 * from 0. A backtest asks for the same bars' returns at every step (signals, correlation, basket
 * volatility), so each is computed once per series array and kept while both bar objects at i - 1
 * and i are the ones it was computed from (bars are immutable; an array may change, or be new).
 */
export function closeLogReturns(bars: readonly { close: number }[], from: number, to: number): Float64Array {
  if (!(from >= 1) || to > bars.length || to < from) throw new RangeError(`closeLogReturns: bad range [${from}, ${to}) of ${bars.length}`);
  let m = logReturnMemos.get(bars);
  if (!m) {
    const size = bars.length + 64;
    logReturnMemos.set(bars, (m = { prev: new Array<unknown>(size).fill(null), cur: new Array<unknown>(size).fill(null), values: new Float64Array(size) }));
  }
  if (m.values.length < to) {
    // Grown whole (never written past the end): the reference arrays stay packed, fast to compare.
    const size = Math.max(to, 2 * m.values.length);
    const grown = new Float64Array(size);
    grown.set(m.values);
    m.values = grown;
    for (const refs of [m.prev, m.cur]) for (let k = refs.length; k < size; k++) refs.push(null);
  }
  const { prev, cur, values } = m;
  let a = bars[from - 1]!;
  for (let i = from; i < to; i++) {
    const b = bars[i]!;
    if (prev[i] !== a || cur[i] !== b) {
      values[i] = Math.log(b.close / a.close);
      prev[i] = a;
      cur[i] = b;
    }
    a = b;
  }
  return values.subarray(from, to);
}
