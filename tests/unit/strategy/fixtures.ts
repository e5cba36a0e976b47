import type { Regime, Signal } from '../../../lib/strategy/signal.ts';

/** A decision time: the default trading settings decide once a day, at 00:00 UTC. */
export const T = Date.UTC(2026, 11, 1, 0);
export const H = 3_600_000;

/** A BTC/USD signal whose candle closed at T (fresh at T). */
export const signal = (probUp: number, regime: Regime = 'bull', time = T - H): Signal => ({
  pair: 'BTC/USD',
  time,
  probUp,
  expectedReturn: (2 * probUp - 1) * 0.05,
  horizonBars: 24,
  regime: { label: regime, probs: { bull: regime === 'bull' ? 0.8 : 0.1, bear: regime === 'bear' ? 0.8 : 0.1, sideways: regime === 'sideways' ? 0.8 : 0.1 } },
  volatility: 0.01,
  atrPct: 0.01,
  modelVersion: 'baseline-v1',
});
