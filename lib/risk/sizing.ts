import type { RiskSettings } from './settings.ts';

export type SizingSettings = Pick<RiskSettings, 'riskPerTrade' | 'volTargetAnnual' | 'maxVolScale'>;

export interface SizingInput {
  equity: number; // USD, marked to market
  price: number; // expected entry price
  slPct: number; // stop distance as a fraction of price
  /** Realised annualised volatility of the pair; ≤ 0 or NaN means unknown (no volatility-targeted size). */
  realisedVolAnnual: number;
  takerFee: number;
  slippage: number;
}

/**
 * The share of equity volatility targeting gives a position: target / realised, capped at
 * maxVolScale. Unknown volatility gives 0: a position whose risk cannot be measured is not sized.
 */
export function volScale(realisedVolAnnual: number, s: SizingSettings): number {
  if (!(realisedVolAnnual > 0) || !Number.isFinite(realisedVolAnnual)) return 0;
  return Math.min(s.volTargetAnnual / realisedVolAnnual, s.maxVolScale);
}

/**
 * Base units to buy: volatility targeting (each position contributes about `volTargetAnnual` of
 * annualised volatility, so a calm BTC gets more weight than a wild SOL), capped so that hitting the
 * stop loses at most `riskPerTrade` of equity with fees and slippage of both legs. Unrounded: the
 * risk engine floors it to the lot precision and applies the exposure caps and the free balance.
 */
export function positionSize(i: SizingInput, s: SizingSettings): number {
  if (!(i.equity > 0) || !(i.price > 0) || !(i.slPct > 0)) return 0;
  const byVol = volScale(i.realisedVolAnnual, s);
  const byRisk = s.riskPerTrade / (i.slPct + 2 * i.takerFee + 2 * i.slippage);
  return (i.equity * Math.min(byVol, byRisk)) / i.price;
}

/** Annualise a per-bar volatility for bars of `intervalSeconds`. */
export function annualiseVol(perBar: number, intervalSeconds: number): number {
  return perBar * Math.sqrt((365 * 86_400) / intervalSeconds);
}
