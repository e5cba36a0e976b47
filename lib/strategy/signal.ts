/** The signal interface between scoring (baseline or ML) and the strategy. */
export type Regime = 'bull' | 'bear' | 'sideways';

export interface RegimeEstimate {
  label: Regime;
  probs: Record<Regime, number>; // sums to 1
}

/** A signal's regime from its label and score: the label's probability grows with |score| for bull/bear (0.5 → 0.9) and shrinks for sideways; the rest is split evenly. */
export function regimeEstimate(label: Regime, score: number): RegimeEstimate {
  const t = Math.tanh(Math.abs(score));
  const p = label === 'sideways' ? 0.5 + 0.4 * (1 - t) : 0.5 + 0.4 * t;
  const rest = (1 - p) / 2;
  const probs: Record<Regime, number> = { bull: rest, bear: rest, sideways: rest };
  probs[label] = p;
  return { label, probs };
}

export interface Signal {
  pair: string;
  time: number; // open time (epoch ms) of the last closed candle the signal used
  /** Probability that the forward return over `horizonBars` clears round-trip costs, in [0, 1]. */
  probUp: number;
  /** Expected forward return over the horizon (fraction, before costs). */
  expectedReturn: number;
  horizonBars: number;
  regime: RegimeEstimate;
  /** Realised volatility per bar (std of log returns) and ATR as a fraction of price, for sizing and stops. */
  volatility: number;
  atrPct: number;
  /** Model version that produced it ("baseline-v1" for the transparent baseline). */
  modelVersion: string;
}
