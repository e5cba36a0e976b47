import { closeTime, type Candle } from '../market/candle.ts';
import { closeLogReturns, stdOfLogReturns, trueRange } from './indicators.ts';
import { regimeEstimate, type Regime, type Signal } from './signal.ts';

/**
 * The default signal ("trend-v3": v2 read 7, 14 and 28 days): time-series momentum, volatility-normalised, over 2–4 weeks.
 *
 *   σ        = std of the bar log returns over `volWindow` bars
 *   z_L      = ln(close_now / close_{now−L bars}) / (σ · √L)      the drift's t-statistic over L bars
 *   score    = mean of z_L over `lags` (14 and 28 days of 1h bars)
 *   μ_H      = edgePerScore · score · σ · √H                      expected log return over H bars
 *   probUp   = Φ((μ_H − costAssumption) / (σ · √H))               P(return over H clears a round trip)
 *
 * Why this: momentum over one to four weeks is the best documented return predictor in crypto
 * (Liu & Tsyvinski 2021, "Risks and Returns of Cryptocurrency"), and scaling by volatility is what
 * makes a trend rule survive its own turnover (Moskowitz, Ooi & Pedersen 2012). Normalising by σ
 * makes one threshold mean the same thing for BTC at 50 % and SOL at 120 % annual volatility.
 *
 * Two and four weeks, not one: a 7-day lag makes entries and exits follow a week's noise. With
 * 14/28 days (and the 6-ATR trailing stop of the risk defaults) the strategy makes about a quarter
 * fewer fills and kept buy-and-hold's Sharpe on 10 of 11 repository and held-out cases (Kraken
 * 2017–2020, Coinbase 2024–2026, Gemini 2018–2024; issue 10), against 6 of 11 for 7/14/28 days.
 * 28 days is about the longest lag the 719 closed candles live reads can give.
 *
 * The edge is deliberately small: `edgePerScore` is the slope of the H-bar forward return (in σ·√H
 * units) on the score. On the training part of the repository's data (2021-01 → 2022-04, BTC/ETH/SOL)
 * the slopes were 0.01–0.29 and unstable; 0.1 is the prior used, about what the literature's weekly
 * momentum information coefficients imply. It is a constant, never fitted on the data it trades.
 *
 * Everything comes from the newest `lookback` (≤ 720, Kraken's OHLC limit) closed candles, so the
 * live score job and a backtest over long history see the very same numbers. `atrPct` is the mean
 * true range of one bar over `atrWindow` bars (per-bar, like every provider's): the risk settings
 * scale it to the decision horizon for stops.
 */
export interface TrendOptions {
  /** Decision time (epoch ms): only candles closed at or before it are used. */
  asOf: number;
  /** Momentum lookbacks in bars. */
  lags: readonly number[];
  /** Bars of log returns for σ. */
  volWindow: number;
  /** Bars of true range for atrPct. */
  atrWindow: number;
  /** Bars ahead the expected return and probability refer to. */
  horizonBars: number;
  /** Expected H-bar return per unit of score, in units of σ·√H. */
  edgePerScore: number;
  /** Round-trip cost assumed by probUp (Kraken's lowest fee tier, 0.26 % taker, plus 0.05 % slippage, both ways); the risk engine checks the account's real costs. */
  costAssumption: number;
  /** Closed candles read (the newest ones). */
  lookback: number;
}

export const TREND_VERSION = 'trend-v3';

const DAY_BARS = 24;

export const defaultTrendOptions: Omit<TrendOptions, 'asOf'> = {
  lags: [14 * DAY_BARS, 28 * DAY_BARS],
  // Two weeks: σ follows a volatility regime within days, and the per-bar cost stays low (a backtest scores every pair at every bar).
  volWindow: 14 * DAY_BARS,
  atrWindow: 7 * DAY_BARS,
  horizonBars: 7 * DAY_BARS,
  edgePerScore: 0.1,
  costAssumption: 0.0062,
  // Kraken's OHLC endpoint serves 720 candles, the newest still open: 719 closed ones live.
  lookback: 719,
};

/** Closed candles the trend signal needs before it can say anything. */
export function trendWarmup(o: Omit<TrendOptions, 'asOf'>): number {
  return Math.max(longestLag(o.lags), o.volWindow, o.atrWindow) + 1;
}

/** Math.max(...lags) without spreading an argument list at every signal. */
function longestLag(lags: readonly number[]): number {
  let m = -Infinity;
  for (const l of lags) m = Math.max(m, l);
  return m;
}

/** Index one past the newest candle closed by `asOf` (candles ascending). */
function closedEnd(candles: readonly Candle[], asOf: number): number {
  let lo = 0;
  let hi = candles.length;
  // The usual case, every candle closed: the newest one closing by asOf says it.
  if (hi > 0 && closeTime(candles[hi - 1]!) <= asOf) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (closeTime(candles[mid]!) <= asOf) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index in [start, end) of the newest candle opened at or before `t` (start when none is). */
function atOrBefore(candles: readonly Candle[], start: number, end: number, t: number): number {
  let lo = start;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (candles[mid]!.openTime <= t) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(start, lo - 1);
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

export function trendSignal(candles: readonly Candle[], opts: Partial<TrendOptions> & Pick<TrendOptions, 'asOf'>): Signal {
  const o: TrendOptions = { ...defaultTrendOptions, ...opts };
  return trendSignalAt(candles, o, o.asOf);
}

/**
 * trendSignal with its options already complete (`o.asOf` is ignored: `asOf` is the decision time).
 * A provider scores every pair at every bar: merging the options into a new object per call was a
 * third of the signal's time.
 */
export function trendSignalAt(candles: readonly Candle[], o: Omit<TrendOptions, 'asOf'>, asOf: number): Signal {
  const end = trendEnd(candles, o, asOf);
  const last = candles[end - 1]!;
  const { probUp, expectedReturn, regime, volatility } = trendScore(candles, end, o);
  return { pair: last.pair, time: last.openTime, probUp, expectedReturn, horizonBars: o.horizonBars, regime, volatility, atrPct: trendAtrPct(candles, end, o), modelVersion: TREND_VERSION };
}

/** One past the newest candle closed by `asOf`, once the candles are checked to be enough and of one series (RangeError otherwise). */
export function trendEnd(candles: readonly Candle[], o: Omit<TrendOptions, 'asOf'>, asOf: number): number {
  const need = trendWarmup(o);
  if (o.lookback < need) throw new RangeError(`lookback (${o.lookback}) must be ≥ the warm-up of ${need} candles`);
  const end = closedEnd(candles, asOf);
  if (end < need) throw new RangeError(`trendSignal needs ${need} closed candles at ${asOf}, got ${end}`);
  const start = Math.max(0, end - o.lookback);
  const first = candles[start]!;
  const last = candles[end - 1]!;
  if (last.pair !== first.pair || last.interval !== first.interval || last.openTime - first.openTime < (end - 1 - start) * first.interval * 1000)
    throw new RangeError('candles must be one pair and interval, strictly ascending');
  return end;
}

/** The signal's atrPct from the candles before `end` (see trendEnd): the mean true range of a bar over atrWindow bars, per unit of the last close. */
export function trendAtrPct(candles: readonly Candle[], end: number, o: Omit<TrendOptions, 'asOf'>): number {
  let trSum = 0;
  for (let i = end - o.atrWindow; i < end; i++) trSum += trueRange(candles[i]!.high, candles[i]!.low, candles[i - 1]!.close);
  return storable(trSum / o.atrWindow / candles[end - 1]!.close);
}

export type TrendScore = Pick<Signal, 'probUp' | 'expectedReturn' | 'regime' | 'volatility'>;

/** The signal's momentum part from the candles before `end` (see trendEnd): σ, the score and what follows from them. */
export function trendScore(candles: readonly Candle[], end: number, o: Omit<TrendOptions, 'asOf'>): TrendScore {
  const start = Math.max(0, end - o.lookback);
  const last = candles[end - 1]!;
  const barMs = last.interval * 1000;
  const close = last.close;
  const sigma = stdOfLogReturns(closeLogReturns(candles, end - o.volWindow, end));

  // Momentum by time, not by index: a gap (an hour without trades) must not stretch a lag.
  let score = 0;
  for (const lag of o.lags) {
    const j = atOrBefore(candles, start, end, last.openTime - lag * barMs);
    const bars = (last.openTime - candles[j]!.openTime) / barMs;
    const z = sigma > 0 && bars > 0 ? Math.log(close / candles[j]!.close) / (sigma * Math.sqrt(bars)) : 0;
    score += z;
  }
  score /= o.lags.length;
  // The longest lag's sign is the trend's direction; the score says how clear it is.
  const jl = atOrBefore(candles, start, end, last.openTime - longestLag(o.lags) * barMs);
  const longUp = close > candles[jl]!.close;

  const sdH = sigma * Math.sqrt(o.horizonBars);
  const expectedReturn = o.edgePerScore * score * sdH;
  const probUp = sdH > 0 ? normalCdf((expectedReturn - o.costAssumption) / sdH) : 0.5;
  const label: Regime = score > 0.25 && longUp ? 'bull' : score < -0.25 && !longUp ? 'bear' : 'sideways';
  return { probUp: storable(probUp), expectedReturn: storable(expectedReturn), regime: regimeEstimate(label, score), volatility: storable(sigma) };
}

/**
 * `x` to 6 significant digits. The live order job reads signals back from PostgreSQL `real`
 * (float4) columns, which hold 6 significant digits exactly: a backtest deciding on the full
 * double would size and stop a position differently from the live path in the 7th digit.
 */
export function storable(x: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(6)) : x;
}
