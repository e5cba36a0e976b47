import type { RiskSettings } from './settings.ts';

/**
 * Which way each guard of the risk settings loosens. A change that loosens any of them is a
 * step-up action (a fresh TOTP code); tightening never is, so an admin can always make the account
 * safer with the session alone. Fields not listed (ATR multiples, correlation window, …) shape the
 * orders rather than bound the risk.
 */
const LOOSER_WHEN: Partial<Record<keyof RiskSettings, 'higher' | 'lower' | 'off'>> = {
  riskPerTrade: 'higher',
  maxPairExposure: 'higher',
  maxGroupExposure: 'higher',
  softDailyDrawdown: 'higher',
  hardDailyDrawdown: 'higher',
  maxSlPct: 'higher',
  volTargetAnnual: 'higher',
  maxVolScale: 'higher',
  // A higher threshold groups fewer pairs under the shared cap.
  correlationThreshold: 'higher',
  edgeMargin: 'lower',
  flattenOnHalt: 'off',
};

/** The guards `after` loosens compared with `before` (empty: the change needs no step-up). */
export function loosenedRiskLimits(before: RiskSettings, after: RiskSettings): string[] {
  return (Object.entries(LOOSER_WHEN) as Array<[keyof RiskSettings, 'higher' | 'lower' | 'off']>).flatMap(([k, dir]) => {
    const [b, a] = [before[k], after[k]];
    const looser = dir === 'off' ? b === true && a === false : dir === 'higher' ? (a as number) > (b as number) : (a as number) < (b as number);
    return looser ? [k] : [];
  });
}
