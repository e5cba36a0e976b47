/** The signal interface between scoring (baseline or ML) and the strategy. */
export type Regime = 'bull' | 'bear' | 'sideways';

export interface RegimeEstimate {
  label: Regime;
  probs: Record<Regime, number>; // sums to 1
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
