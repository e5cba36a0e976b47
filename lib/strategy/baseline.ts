import { closeTime, type Candle } from '../market/candle.ts';
import { regimeEstimate, type Regime, type Signal } from './signal.ts';
import { atr, closeLogReturns, emaPair, sma, stdOfLogReturns } from './indicators.ts';

/**
 * The transparent baseline signal ("baseline-v1"): trend following with a volatility filter.
 *
 *   spread = (EMA_fast − EMA_slow) / close / atrPct        EMA spread in ATRs
 *   trend  = clamp((close − SMA_trend) / close / atrPct, −4, 4)   distance from the long MA in ATRs
 *   score  = spread + 0.25 · trend
 *   probUp = 1 / (1 + e^(−gain · score))                   monotone increasing in score
 *
 * Volatility filter: when atrPct > maxAtrPct, probUp is capped at 0.5 (no entry in a disorderly
 * market). Regime: bull when close > SMA_trend and EMA_fast > EMA_slow, bear when both are below,
 * sideways otherwise. expectedReturn = (2·probUp − 1) · σ_bar · √horizon: the signed edge scaled by
 * the move volatility allows over the horizon (a heuristic, stated as such).
 */
export interface BaselineOptions {
  /** Decision time (epoch ms): only candles closed at or before it are used. */
  asOf: number;
  fastPeriod: number;
  slowPeriod: number;
  trendPeriod: number;
  atrPeriod: number;
  volWindow: number;
  horizonBars: number;
  maxAtrPct: number;
  gain: number;
  /** Closed candles read (the newest ones): the signal depends on these alone, so 700 bars of live OHLC and a long backtest history agree. */
  lookback: number;
}

export const BASELINE_VERSION = 'baseline-v1';

export const defaultBaselineOptions: Omit<BaselineOptions, 'asOf'> = {
  fastPeriod: 12,
  slowPeriod: 48,
  trendPeriod: 200,
  atrPeriod: 14,
  volWindow: 48,
  horizonBars: 24,
  maxAtrPct: 0.05,
  gain: 1.5,
  // Enough for every indicator to forget its seed (EMA 48 over ~270 bars: e^-11), and short enough to score fast.
  lookback: 320,
};

/** Closed candles the baseline needs before it can say anything. */
export function baselineWarmup(o: Omit<BaselineOptions, 'asOf'>): number {
  return Math.max(o.slowPeriod, o.trendPeriod, o.atrPeriod + 1, o.volWindow + 1);
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

let scratch = new Float64Array(512);

export function baselineSignal(candles: readonly Candle[], opts: Partial<BaselineOptions> & Pick<BaselineOptions, 'asOf'>): Signal {
  const o: BaselineOptions = { ...defaultBaselineOptions, ...opts };
  if (!(o.fastPeriod < o.slowPeriod)) throw new RangeError(`fastPeriod (${o.fastPeriod}) must be < slowPeriod (${o.slowPeriod})`);
  // Candles are oldest first; drop any not yet closed at asOf (the open bar, or the future).
  // Binary search: a backtest passes its whole history and moves asOf bar by bar.
  let lo = 0;
  let hi = candles.length;
  // The usual case, every candle closed: ascending, so the newest one closing by asOf says it.
  if (hi > 0 && closeTime(candles[hi - 1]!) <= o.asOf) lo = hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (closeTime(candles[mid]!) <= o.asOf) lo = mid + 1;
    else hi = mid;
  }
  const end = lo;
  const need = baselineWarmup(o);
  if (o.lookback < need) throw new RangeError(`lookback (${o.lookback}) must be ≥ the warm-up of ${need} candles`);
  if (end < need) throw new RangeError(`baselineSignal needs ${need} closed candles at ${o.asOf}, got ${end}`);
  const start = Math.max(0, end - o.lookback);
  // Series are validated where they enter (CSV reader, candle store); here only what is O(1) to check.
  const first = candles[start]!;
  const lastBar = candles[end - 1]!;
  if (lastBar.pair !== first.pair || lastBar.interval !== first.interval || lastBar.openTime - first.openTime < (end - 1 - start) * first.interval * 1000)
    throw new RangeError('candles must be one pair and interval, strictly ascending');
  const n = end - start;
  const last = candles[end - 1]!;
  const close = last.close;

  // Wilder's ATR forgets its seed geometrically ((n-1)/n per bar): ten periods are plenty.
  const atrStart = Math.max(start, end - 10 * o.atrPeriod - 1);
  let fast: number;
  let slow: number;
  let trendMa: number;
  let atrValue: number;
  const fused = fusedIndicators(candles, start, end, atrStart, o);
  if (fused) [fast, slow, trendMa, atrValue] = fused;
  else {
    // A scratch buffer (the call is synchronous): a backtest scores every pair at every bar.
    if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
    const closes = scratch.subarray(0, n);
    for (let i = 0; i < n; i++) closes[i] = candles[start + i]!.close;
    [fast, slow] = emaPair(closes, o.fastPeriod, o.slowPeriod);
    trendMa = sma(closes, o.trendPeriod);
    atrValue = atr(candles, o.atrPeriod, end, atrStart);
  }
  const atrPct = atrValue / close;
  // logReturnStd(closes, volWindow), from returns computed once per bar pair (the same values).
  const volatility = n < o.volWindow + 1 || o.volWindow < 2 ? Number.NaN : stdOfLogReturns(closeLogReturns(candles, end - o.volWindow, end));

  // A perfectly flat market has no ATR: no trend to speak of.
  const unit = atrPct > 0 ? atrPct : Number.POSITIVE_INFINITY;
  const spread = (fast - slow) / close / unit;
  const trend = clamp((close - trendMa) / close / unit, -4, 4);
  const score = spread + 0.25 * trend;
  let probUp = 1 / (1 + Math.exp(-o.gain * score));
  if (atrPct > o.maxAtrPct) probUp = Math.min(probUp, 0.5);

  const label: Regime = close > trendMa && fast > slow ? 'bull' : close < trendMa && fast < slow ? 'bear' : 'sideways';
  return {
    pair: last.pair,
    time: last.openTime,
    probUp,
    expectedReturn: (2 * probUp - 1) * volatility * Math.sqrt(o.horizonBars),
    horizonBars: o.horizonBars,
    regime: regimeEstimate(label, score),
    volatility,
    atrPct,
    modelVersion: BASELINE_VERSION,
  };
}

/**
 * ema(fast), ema(slow), sma(trend) of the closes of candles [start, end) and atr(candles, atrPeriod,
 * end, atrStart), in one pass over the candles: four independent recurrences, each of dependent
 * operations, run side by side — the same arithmetic in the same order per recurrence as those
 * functions, so the same values. Null when the windows do not nest this way (the caller then calls
 * the indicators one by one).
 */
function fusedIndicators(candles: readonly Candle[], start: number, end: number, atrStart: number, o: BaselineOptions): [number, number, number, number] | null {
  const n = end - start;
  const F = o.fastPeriod;
  const S = o.slowPeriod;
  const T = o.trendPeriod;
  const P = o.atrPeriod;
  const trendFrom = n - T; // the SMA's first close (index into the window)
  const atrFrom = atrStart + 1 - start; // the ATR's first step
  if (!(F >= 1 && F < S && T >= 1 && P >= 1) || trendFrom < S || atrFrom < S || end - atrStart < P + 1) return null;
  const af = 2 / (F + 1);
  const as = 2 / (S + 1);
  let f = 0;
  let s = 0;
  let i = 0;
  for (; i < F; i++) {
    const x = candles[start + i]!.close;
    f += x;
    s += x;
  }
  f /= F;
  for (; i < S; i++) {
    const x = candles[start + i]!.close;
    f += af * (x - f);
    s += x;
  }
  s /= S;
  let t = 0;
  let a = 0;
  let prevClose = candles[atrStart]!.close;
  for (; i < n; i++) {
    const b = candles[start + i]!;
    const x = b.close;
    f += af * (x - f);
    s += as * (x - s);
    if (i >= trendFrom) t += x;
    if (i >= atrFrom) {
      const j = start + i;
      // trueRange() inlined by hand: this loop is the backtest's hottest.
      const h = b.high;
      const l = b.low;
      let tr = h - l;
      const up = h > prevClose ? h - prevClose : prevClose - h;
      const down = l > prevClose ? l - prevClose : prevClose - l;
      if (up > tr) tr = up;
      if (down > tr) tr = down;
      prevClose = x;
      if (j <= atrStart + P) {
        a += tr;
        if (j === atrStart + P) a /= P;
      } else a = (a * (P - 1) + tr) / P;
    }
  }
  return [f, s, t / T, a];
}
