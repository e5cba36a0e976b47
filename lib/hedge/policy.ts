import type { HedgeSettings } from './settings.ts';

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

export interface HedgeInputs {
  /** Annualised realised volatility of the account's risky holdings (or the universe). */
  realisedVolAnnual: number;
  /** Current drawdown from the equity peak, fraction ≥ 0. */
  drawdown: number;
}

/** Auto target before hysteresis: clamp(base + volCoef·max(0, vol − volRef) + ddCoef·drawdown, min, max). */
export function autoHedgeRatio(i: HedgeInputs, s: HedgeSettings): number {
  const vol = Number.isFinite(i.realisedVolAnnual) ? Math.max(0, i.realisedVolAnnual - s.volReference) : 0;
  const dd = Number.isFinite(i.drawdown) ? Math.max(0, i.drawdown) : 0;
  return clamp(s.base + s.volCoefficient * vol + s.drawdownCoefficient * dd, s.min, s.max);
}

export interface HedgeTarget {
  target: number;
  mode: 'auto' | 'manual';
  /** The auto formula's value this cycle (reported even when manual or held by the band). */
  raw: number;
  changed: boolean;
  reason: string;
}

/** True while an admin's manual ratio is in force. */
export function manualActive(s: HedgeSettings, now: number): boolean {
  return s.mode === 'manual' && s.manualRatio !== null && (s.manualExpiry === null || now < s.manualExpiry);
}

/** The target in force before this cycle, as recorded by the caller. */
export interface PreviousTarget {
  target: number;
  mode: 'auto' | 'manual';
}

/**
 * This cycle's hedge target. Manual: the admin's ratio until its expiry, then auto. Auto: the
 * formula, but the previous auto target is kept unless the new value differs by more than the band
 * (or lies outside the current bounds), so the target does not churn. Leaving manual mode (expiry
 * or a settings change) goes straight to the formula's value.
 */
export function hedgeTarget(previous: PreviousTarget | null, i: HedgeInputs, now: number, s: HedgeSettings): HedgeTarget {
  const raw = autoHedgeRatio(i, s);
  const prev = previous?.target ?? null;
  if (manualActive(s, now)) {
    const target = s.manualRatio!;
    return { target, mode: 'manual', raw, changed: prev !== target, reason: `manual ${fmt(target)}${s.manualExpiry === null ? '' : ` until ${new Date(s.manualExpiry).toISOString()}`}` };
  }
  if (previous === null || previous.mode === 'manual') {
    const why = previous === null ? 'initial' : s.mode === 'manual' ? 'manual expired' : 'manual ended';
    return { target: raw, mode: 'auto', raw, changed: prev !== raw, reason: `auto ${fmt(raw)} (${why})` };
  }
  const p = previous.target;
  if (p < s.min || p > s.max || Math.abs(raw - p) > s.band)
    return { target: raw, mode: 'auto', raw, changed: raw !== p, reason: `auto ${fmt(p)} → ${fmt(raw)}` };
  return { target: p, mode: 'auto', raw, changed: false, reason: `auto held at ${fmt(p)} (raw ${fmt(raw)} within band ${fmt(s.band)})` };
}

/** Rebalance only when the actual ratio is off the target by more than the tolerance. */
export function needsRebalance(actual: number, target: number, tolerance: number): boolean {
  return Math.abs(actual - target) > tolerance;
}

const fmt = (x: number): string => `${(x * 100).toFixed(1)}%`;
