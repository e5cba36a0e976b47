import { createHash } from 'node:crypto';
import { ATR, BollingerBands, EMA, MACD, RSI } from 'trading-signals';
import type { Candle } from '../market/candle.ts';
import type { RegimeEstimate } from '../strategy/signal.ts';
import { Ring, RollingStats, clamp } from './math.ts';
import { DEFAULT_REGIME_PARAMS, RegimeDetector, type RegimeParams } from './regime.ts';

/**
 * Causal features, computed one candle at a time. Batch (featureMatrix) pushes through the very same
 * FeatureState, so training rows and live rows are identical by construction (and by test).
 * Horizons count bars, not wall time: a missing hour (Kraken gap) shifts a window by one bar.
 */
export interface FeatureParams {
  returnHorizons: number[];
  volWindows: number[];
  atrPeriod: number;
  rsiPeriod: number;
  macd: [number, number, number];
  bollinger: [number, number];
  volumeWindow: number;
  btcHorizons: number[];
  regime: RegimeParams;
  /** BTC candles older than this many bars (of the pair's interval) make cross-asset features unavailable. */
  maxBtcStaleBars: number;
}

export const DEFAULT_FEATURE_PARAMS: FeatureParams = {
  returnHorizons: [1, 4, 24, 72, 168],
  volWindows: [24, 168],
  atrPeriod: 14,
  rsiPeriod: 14,
  macd: [12, 26, 9],
  bollinger: [20, 2],
  volumeWindow: 168,
  btcHorizons: [1, 24],
  regime: DEFAULT_REGIME_PARAMS,
  maxBtcStaleBars: 6,
};

export const BTC_PAIR = 'BTC/USD';

export function featureNames(p: FeatureParams = DEFAULT_FEATURE_PARAMS): string[] {
  return [
    ...p.returnHorizons.map((h) => `ret_${h}`),
    ...p.volWindows.map((w) => `rv_${w}`),
    `atr_pct_${p.atrPeriod}`,
    `rsi_${p.rsiPeriod}`,
    `macd_pct_${p.macd.join('_')}`,
    `macd_hist_pct_${p.macd.join('_')}`,
    `bb_pos_${p.bollinger.join('_')}`,
    `volume_z_${p.volumeWindow}`,
    ...p.btcHorizons.map((h) => `btc_ret_${h}`),
    `rel_ret_${Math.max(...p.btcHorizons)}`,
    'regime_trend',
    'hour_sin',
    'hour_cos',
    'dow_sin',
    'dow_cos',
  ];
}

/** JSON with object keys sorted: parameters read back from jsonb (which reorders keys) hash the same. */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : v !== null && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}` : JSON.stringify(v);

/** sha256 of the feature names and parameters: a model only scores rows built the same way. */
export function featureSetHash(p: FeatureParams = DEFAULT_FEATURE_PARAMS): string {
  return createHash('sha256').update(canonical({ names: featureNames(p), params: p })).digest('hex');
}

/** Log returns of closes over bar horizons, for the BTC companion series. */
class ReturnTracker {
  readonly closes: Ring;
  lastOpenTime = -Infinity;
  constructor(maxHorizon: number) {
    this.closes = new Ring(maxHorizon + 1);
  }
  push(c: Candle): void {
    if (c.openTime <= this.lastOpenTime) throw new Error(`candles out of order for ${c.pair}: ${c.openTime} after ${this.lastOpenTime}`);
    this.lastOpenTime = c.openTime;
    this.closes.push(c.close);
  }
  ret(h: number): number {
    return this.closes.size > h ? Math.log(this.closes.ago(0) / this.closes.ago(h)) : NaN;
  }
}

const TWO_PI = 2 * Math.PI;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export class FeatureState {
  readonly names: string[];
  private readonly own: ReturnTracker;
  private readonly btc: ReturnTracker;
  private readonly isBtc: boolean;
  private readonly vols: RollingStats[];
  private readonly volume: RollingStats;
  private readonly atr: ATR;
  private readonly rsi: RSI;
  private readonly macd: MACD;
  private readonly bb: BollingerBands;
  private readonly regimeDetector: RegimeDetector;
  private lastClose = NaN;
  private last: Candle | null = null;
  private cached: Float64Array | null | undefined;
  private hash: string | undefined;

  constructor(readonly pair: string, readonly params: FeatureParams = DEFAULT_FEATURE_PARAMS) {
    this.names = featureNames(params);
    this.isBtc = pair === BTC_PAIR;
    this.own = new ReturnTracker(Math.max(...params.returnHorizons, ...params.btcHorizons));
    this.btc = new ReturnTracker(Math.max(...params.btcHorizons));
    this.vols = params.volWindows.map((w) => new RollingStats(w));
    this.volume = new RollingStats(params.volumeWindow);
    this.atr = new ATR(params.atrPeriod);
    this.rsi = new RSI(params.rsiPeriod);
    const [f, s, sig] = params.macd;
    this.macd = new MACD(new EMA(f), new EMA(s), new EMA(sig));
    this.bb = new BollingerBands(params.bollinger[0], params.bollinger[1]);
    this.regimeDetector = new RegimeDetector(params.regime);
  }

  /** Feed the BTC/USD candle of the same (or an earlier) time before the pair's own candle. */
  pushBtc(c: Candle): void {
    if (this.isBtc) throw new Error('pushBtc on the BTC/USD state itself: its own candles are the BTC series');
    if (c.pair !== BTC_PAIR) throw new Error(`pushBtc expects ${BTC_PAIR}, got ${c.pair}`);
    this.btc.push(c);
    this.cached = undefined;
  }

  push(c: Candle): void {
    if (c.pair !== this.pair) throw new Error(`FeatureState(${this.pair}) got a ${c.pair} candle`);
    this.own.push(c);
    if (this.isBtc) this.btc.push(c);
    if (!Number.isNaN(this.lastClose)) {
      const r = Math.log(c.close / this.lastClose);
      for (const v of this.vols) v.push(r);
    }
    this.lastClose = c.close;
    this.volume.push(Math.log1p(c.volume));
    this.atr.add({ high: c.high, low: c.low, close: c.close });
    this.rsi.add(c.close);
    this.macd.add(c.close);
    this.bb.add(c.close);
    this.regimeDetector.push(c.close);
    this.last = c;
    this.cached = undefined;
  }

  get featureSetHash(): string {
    this.hash ??= featureSetHash(this.params);
    return this.hash;
  }

  get lastCandle(): Candle | null {
    return this.last;
  }

  /** Per-bar realised volatility over the shortest window (NaN before warm-up). */
  volatility(): number {
    const v = this.vols[0];
    return v && v.ready ? v.std : NaN;
  }

  atrPct(): number {
    const a = this.atr.getResult();
    return a === null || !this.last ? NaN : a / this.last.close;
  }

  regime(): RegimeEstimate | null {
    return this.regimeDetector.estimate();
  }

  /** The feature vector after the last candle, or null while any input is warming up or BTC is stale. */
  features(): Float64Array | null {
    if (this.cached !== undefined) return this.cached;
    this.cached = this.compute();
    return this.cached;
  }

  private compute(): Float64Array | null {
    const c = this.last;
    const p = this.params;
    if (!c) return null;
    const atr = this.atr.getResult();
    const rsi = this.rsi.getResult();
    const macd = this.macd.getResult();
    const bb = this.bb.getResult();
    const trend = this.regimeDetector.trend();
    if (atr === null || rsi === null || macd === null || bb === null || Number.isNaN(trend)) return null;
    if (!this.vols.every((v) => v.ready) || !this.volume.ready) return null;
    if (this.own.closes.size <= Math.max(...p.returnHorizons)) return null;
    if (this.btc.closes.size <= Math.max(...p.btcHorizons)) return null;
    if (c.openTime - this.btc.lastOpenTime > p.maxBtcStaleBars * c.interval * 1000) return null;

    const out = new Float64Array(this.names.length);
    let k = 0;
    for (const h of p.returnHorizons) out[k++] = this.own.ret(h);
    for (const v of this.vols) out[k++] = v.std;
    out[k++] = atr / c.close;
    out[k++] = (rsi - 50) / 50;
    out[k++] = macd.macd / c.close;
    out[k++] = macd.histogram / c.close;
    const width = bb.upper - bb.lower;
    out[k++] = width > 0 ? clamp((c.close - bb.middle) / width, -2, 2) : 0;
    const vs = this.volume.std;
    out[k++] = vs > 0 ? clamp((Math.log1p(c.volume) - this.volume.mean) / vs, -6, 6) : 0;
    for (const h of p.btcHorizons) out[k++] = this.btc.ret(h);
    const hMax = Math.max(...p.btcHorizons);
    out[k++] = this.own.ret(hMax) - this.btc.ret(hMax);
    out[k++] = trend;
    const hour = Math.floor(c.openTime / HOUR_MS) % 24;
    const dow = (Math.floor(c.openTime / DAY_MS) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
    out[k++] = Math.sin((TWO_PI * hour) / 24);
    out[k++] = Math.cos((TWO_PI * hour) / 24);
    out[k++] = Math.sin((TWO_PI * dow) / 7);
    out[k] = Math.cos((TWO_PI * dow) / 7);
    for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) throw new Error(`feature ${this.names[i]} is not finite at ${c.pair} ${c.openTime}`);
    return out;
  }
}

/**
 * Batch features: row i is the vector after candles[0..i] (null during warm-up). BTC candles with
 * openTime <= candle.openTime are pushed first, the order a live scorer must keep too.
 */
export function featureMatrix(candles: readonly Candle[], btcCandles?: readonly Candle[], params: FeatureParams = DEFAULT_FEATURE_PARAMS): (Float64Array | null)[] {
  const first = candles[0];
  if (!first) return [];
  const st = new FeatureState(first.pair, params);
  const needsBtc = first.pair !== BTC_PAIR;
  if (needsBtc && !btcCandles) throw new Error(`cross-asset features for ${first.pair} need BTC/USD candles`);
  let j = 0;
  return candles.map((c) => {
    if (needsBtc && btcCandles) {
      while (j < btcCandles.length && (btcCandles[j] as Candle).openTime <= c.openTime) st.pushBtc(btcCandles[j++] as Candle);
    }
    st.push(c);
    return st.features();
  });
}
