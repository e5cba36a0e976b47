import { closeTime, type Candle } from '../market/candle.ts';
import type { Regime, RegimeEstimate, Signal } from './signal.ts';
import { atr, ema, logReturnStd, sma } from './indicators.ts';

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

export function baselineSignal(candles: readonly Candle[], opts: Partial<BaselineOptions> & Pick<BaselineOptions, 'asOf'>): Signal {
  const o: BaselineOptions = { ...defaultBaselineOptions, ...opts };
  if (!(o.fastPeriod < o.slowPeriod)) throw new RangeError(`fastPeriod (${o.fastPeriod}) must be < slowPeriod (${o.slowPeriod})`);
  // Candles are oldest first; drop any not yet closed at asOf (the open bar, or the future).
  // Binary search: a backtest passes its whole history and moves asOf bar by bar.
  let lo = 0;
  let hi = candles.length;
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
  const closes = new Array<number>(n);
  for (let i = 0; i < n; i++) closes[i] = candles[start + i]!.close;
  const last = candles[end - 1]!;
  const close = last.close;

  const fast = ema(closes, o.fastPeriod);
  const slow = ema(closes, o.slowPeriod);
  const trendMa = sma(closes, o.trendPeriod);
  // Wilder's ATR forgets its seed geometrically ((n-1)/n per bar): ten periods are plenty.
  const atrPct = atr(candles, o.atrPeriod, end, Math.max(start, end - 10 * o.atrPeriod - 1)) / close;
  const volatility = logReturnStd(closes, o.volWindow);

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

/** The label's probability grows with |score| for bull/bear (0.5 → 0.9) and shrinks for sideways; the rest is split evenly. */
function regimeEstimate(label: Regime, score: number): RegimeEstimate {
  const t = Math.tanh(Math.abs(score));
  const p = label === 'sideways' ? 0.5 + 0.4 * (1 - t) : 0.5 + 0.4 * t;
  const rest = (1 - p) / 2;
  const probs: Record<Regime, number> = { bull: rest, bear: rest, sideways: rest };
  probs[label] = p;
  return { label, probs };
}
