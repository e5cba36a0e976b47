import type { Candle } from '../market/candle.ts';
import type { Regime, RegimeEstimate } from '../strategy/signal.ts';
import { Ring, RollingStats, clamp } from './math.ts';

/**
 * Causal regime detector from price action alone. The trend statistic is the log return over a
 * window divided by the volatility expected over that window (a t-statistic of drift), averaged
 * over a short and a long window so a fresh leg registers before the long window catches up.
 * Probabilities: softmax of logits bull = k(s − c), bear = k(−s − c), sideways = 0, so |s| < c
 * reads as sideways.
 */
export interface RegimeParams {
  shortBars: number;
  longBars: number;
  volBars: number;
  threshold: number; // c
  sharpness: number; // k
}

export const DEFAULT_REGIME_PARAMS: RegimeParams = { shortBars: 168, longBars: 720, volBars: 720, threshold: 0.5, sharpness: 4 };

export class RegimeDetector {
  private readonly closes: Ring;
  private readonly vol: RollingStats;
  private last = NaN;
  constructor(readonly params: RegimeParams = DEFAULT_REGIME_PARAMS) {
    this.closes = new Ring(params.longBars + 1);
    this.vol = new RollingStats(params.volBars);
  }
  push(close: number): void {
    if (!Number.isNaN(this.last)) this.vol.push(Math.log(close / this.last));
    this.last = close;
    this.closes.push(close);
  }
  get ready(): boolean {
    return this.closes.full && this.vol.ready;
  }
  /** The trend statistic s (clipped to ±5), or NaN before warm-up. */
  trend(): number {
    if (!this.ready) return NaN;
    const { shortBars, longBars } = this.params;
    const sigma = Math.max(this.vol.std, 1e-6);
    const now = this.closes.ago(0);
    const sShort = Math.log(now / this.closes.ago(shortBars)) / (sigma * Math.sqrt(shortBars));
    const sLong = Math.log(now / this.closes.ago(longBars)) / (sigma * Math.sqrt(longBars));
    return clamp((sShort + sLong) / 2, -5, 5);
  }
  estimate(): RegimeEstimate | null {
    const s = this.trend();
    if (Number.isNaN(s)) return null;
    return regimeFromTrend(s, this.params);
  }
}

export function regimeFromTrend(s: number, p: Pick<RegimeParams, 'threshold' | 'sharpness'> = DEFAULT_REGIME_PARAMS): RegimeEstimate {
  const lb = p.sharpness * (s - p.threshold);
  const lr = p.sharpness * (-s - p.threshold);
  const m = Math.max(lb, lr, 0);
  const eb = Math.exp(lb - m);
  const er = Math.exp(lr - m);
  const es = Math.exp(-m);
  const z = eb + er + es;
  const probs: Record<Regime, number> = { bull: eb / z, bear: er / z, sideways: es / z };
  const label: Regime = probs.bull >= probs.bear && probs.bull >= probs.sideways ? 'bull' : probs.bear >= probs.sideways ? 'bear' : 'sideways';
  return { label, probs };
}

/** The regime estimate after each candle (null during warm-up). */
export function regimeSeries(candles: readonly Candle[], params: RegimeParams = DEFAULT_REGIME_PARAMS): (RegimeEstimate | null)[] {
  const d = new RegimeDetector(params);
  return candles.map((c) => {
    d.push(c.close);
    return d.estimate();
  });
}

/** Widely agreed BTC market phases inside the repository's data window (UTC, [from, to)). */
export const KNOWN_BTC_PERIODS: readonly { from: string; to: string; regime: Regime; note: string }[] = [
  { from: '2021-02-01', to: '2021-04-15', regime: 'bull', note: 'first 2021 leg to the April ATH (detector warm from Feb)' },
  { from: '2021-06-01', to: '2021-07-21', regime: 'sideways', note: '30–40k range after the May crash' },
  { from: '2021-07-21', to: '2021-11-11', regime: 'bull', note: 'second 2021 leg to the November ATH' },
  { from: '2022-04-01', to: '2022-07-01', regime: 'bear', note: '2022 bear: LUNA (May), Celsius/3AC (June)' },
  { from: '2022-11-06', to: '2022-11-22', regime: 'bear', note: 'FTX collapse' },
  { from: '2022-09-01', to: '2022-11-06', regime: 'sideways', note: '18–22k range' },
  { from: '2022-12-01', to: '2023-01-07', regime: 'sideways', note: 'flat end of 2022' },
];

export interface RegimeAgreement {
  agreement: number; // fraction of labelled, warm bars where the detector's label matches
  bars: number;
  periods: { from: string; to: string; regime: Regime; bars: number; agreement: number; detected: Record<Regime, number> }[];
}

/** Compares the causal detector with labelled periods; only bars where the detector is warm count. */
export function validateRegimes(
  candles: readonly Candle[],
  periods: readonly { from: string; to: string; regime: Regime }[] = KNOWN_BTC_PERIODS,
  params: RegimeParams = DEFAULT_REGIME_PARAMS,
): RegimeAgreement {
  const est = regimeSeries(candles, params);
  let hit = 0;
  let total = 0;
  const out: RegimeAgreement['periods'] = [];
  for (const p of periods) {
    const from = Date.parse(`${p.from}T00:00:00Z`);
    const to = Date.parse(`${p.to}T00:00:00Z`);
    const detected: Record<Regime, number> = { bull: 0, bear: 0, sideways: 0 };
    let n = 0;
    candles.forEach((c, i) => {
      const e = est[i];
      if (!e || c.openTime < from || c.openTime >= to) return;
      detected[e.label]++;
      n++;
    });
    out.push({ ...p, bars: n, agreement: n ? detected[p.regime] / n : NaN, detected });
    hit += detected[p.regime];
    total += n;
  }
  return { agreement: total ? hit / total : NaN, bars: total, periods: out };
}
