import type { Regime } from '../strategy/signal.ts';
import type { RiskSettings } from './settings.ts';

export type StopSettings = Pick<
  RiskSettings,
  'slAtrMultiple' | 'tpAtrMultiple' | 'minSlPct' | 'maxSlPct' | 'minTpPct' | 'maxTpPct' | 'regimeMultipliers' | 'trailAtrMultiple' | 'atrHorizonBars'
>;

export interface Stops {
  slPct: number; // distance below entry, fraction of entry price
  tpPct: number; // distance above entry
  stopLoss: number; // trigger price
  takeProfit: number;
}

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

/**
 * The ATR over the stop horizon from a per-bar ATR: ranges grow with the square root of time, so
 * √atrHorizonBars per-bar ATRs is about one horizon bar's ATR (1h ATR × √24 ≈ a day's).
 */
export function horizonAtrPct(atrPct: number, s: Pick<StopSettings, 'atrHorizonBars'>): number {
  return atrPct * Math.sqrt(s.atrHorizonBars);
}

/**
 * Stop-loss and take-profit for a long entry: multiples of the horizon ATR scaled by the regime,
 * clamped to the account's bounds. A missing/invalid ATR falls to the widest stop allowed (never to
 * no stop).
 */
export function computeStops(entryPrice: number, atrPct: number, regime: Regime, s: StopSettings): Stops {
  if (!(entryPrice > 0)) throw new RangeError(`entryPrice must be > 0, got ${entryPrice}`);
  const m = s.regimeMultipliers[regime];
  const atr = Number.isFinite(atrPct) && atrPct > 0 ? horizonAtrPct(atrPct, s) : Number.POSITIVE_INFINITY;
  const slPct = clamp(s.slAtrMultiple * atr * m.sl, s.minSlPct, s.maxSlPct);
  const tpPct = clamp(s.tpAtrMultiple * atr * m.tp, s.minTpPct, s.maxTpPct);
  return { slPct, tpPct, stopLoss: entryPrice * (1 - slPct), takeProfit: entryPrice * (1 + tpPct) };
}

export interface ProtectedLong {
  stopLoss: number;
  takeProfit: number | null;
}

export interface Bar {
  open: number;
  high: number;
  low: number;
}

export type StopHit = { hit: 'stop-loss' | 'take-profit'; price: number };

/**
 * Whether a long's stop or take-profit is hit by a bar (or a single price). Within one bar the
 * stop wins when both are touched (we cannot know the path; assume the worse). A gap through a
 * level fills at the open, not at the level.
 */
export function checkStops(p: ProtectedLong, bar: Bar | number): StopHit | null {
  const open = typeof bar === 'number' ? bar : bar.open;
  const high = typeof bar === 'number' ? bar : bar.high;
  const low = typeof bar === 'number' ? bar : bar.low;
  if (low <= p.stopLoss) return { hit: 'stop-loss', price: open < p.stopLoss ? open : p.stopLoss };
  if (p.takeProfit !== null && high >= p.takeProfit) return { hit: 'take-profit', price: open > p.takeProfit ? open : p.takeProfit };
  return null;
}

/**
 * Trailing stop: the stop follows the price at `trailAtrMultiple` horizon ATRs below it, only
 * upwards, and never above the bounds' tightest stop — the classic trend-following exit. Returns the
 * new stop, or null when it does not move (trailing off, or the candidate is not higher than the
 * current stop).
 */
export function trailStop(currentStop: number, price: number, atrPct: number, s: StopSettings): number | null {
  if (s.trailAtrMultiple <= 0 || !(price > 0) || !(atrPct > 0)) return null;
  const dist = clamp(s.trailAtrMultiple * horizonAtrPct(atrPct, s), s.minSlPct, s.maxSlPct);
  const candidate = price * (1 - dist);
  return candidate > currentStop ? candidate : null;
}
