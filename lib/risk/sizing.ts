import type { RiskSettings } from './settings.ts';

export type SizingSettings = Pick<RiskSettings, 'riskPerTrade' | 'volTargetAnnual' | 'maxVolScale'>;

export interface SizingInput {
  equity: number; // USD, marked to market
  price: number; // expected entry price
  slPct: number; // stop distance as a fraction of price
  /** Realised annualised volatility of the pair; ≤ 0 or NaN means unknown (no upscaling). */
  realisedVolAnnual: number;
  takerFee: number;
  slippage: number;
}

/** Target vol / realised vol, capped; unknown volatility gives 1 capped (never levers up blind). */
export function volScale(realisedVolAnnual: number, s: SizingSettings): number {
  if (!(realisedVolAnnual > 0)) return Math.min(1, s.maxVolScale);
  return Math.min(s.volTargetAnnual / realisedVolAnnual, s.maxVolScale);
}

/**
 * Base units to buy so that hitting the stop loses `riskPerTrade` of equity, fees and slippage of
 * both legs included, then scaled by volatility targeting. Unrounded: the risk engine floors it to
 * the lot precision and applies the caps and the free balance.
 */
export function positionSize(i: SizingInput, s: SizingSettings): number {
  if (!(i.equity > 0) || !(i.price > 0) || !(i.slPct > 0)) return 0;
  const lossPerUnit = i.price * (i.slPct + 2 * i.takerFee + 2 * i.slippage);
  return ((i.equity * s.riskPerTrade) / lossPerUnit) * volScale(i.realisedVolAnnual, s);
}

/** Annualise a per-bar volatility for bars of `intervalSeconds`. */
export function annualiseVol(perBar: number, intervalSeconds: number): number {
  return perBar * Math.sqrt((365 * 86_400) / intervalSeconds);
}
