import { describe, expect, it } from 'vitest';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';

describe('riskSettingsSchema', () => {
  it('parse({}) gives the defaults', () => {
    const s = riskSettingsSchema.parse({});
    expect(s).toMatchObject({ riskPerTrade: 0.03, atrHorizonBars: 24, slAtrMultiple: 3, trailAtrMultiple: 6, maxSlPct: 0.25, volTargetAnnual: 0.15, maxVolScale: 1, softDailyDrawdown: 0.03, hardDailyDrawdown: 0.05, maxPairExposure: 0.25, maxGroupExposure: 0.5, flattenOnHalt: false, reduceToFit: true });
    expect(s.regimeMultipliers.bear).toEqual({ sl: 0.75, tp: 0.6 });
  });

  it.each([
    ['hard drawdown not above soft', { softDailyDrawdown: 0.05, hardDailyDrawdown: 0.05 }, 'hardDailyDrawdown (0.05) must exceed softDailyDrawdown (0.05)'],
    ['min SL above max SL', { minSlPct: 0.1, maxSlPct: 0.05 }, 'minSlPct (0.1) must be ≤ maxSlPct (0.05)'],
    ['min TP above max TP', { minTpPct: 0.3, maxTpPct: 0.2 }, 'minTpPct (0.3) must be ≤ maxTpPct (0.2)'],
    ['pair cap above group cap', { maxPairExposure: 0.6, maxGroupExposure: 0.5 }, 'maxPairExposure (0.6) must be ≤ maxGroupExposure (0.5)'],
    ['risk per trade too high', { riskPerTrade: 0.2 }, 'riskPerTrade must be ≤ 0.05'],
    ['negative edge margin', { edgeMargin: -0.01 }, 'edgeMargin must be ≥ 0'],
    ['fractional correlation window', { correlationWindow: 10.5 }, 'correlationWindow must be an integer'],
    ['string where a number goes', { riskPerTrade: '0.01' }, 'riskPerTrade must be a number'],
    ['unknown field', { riskPerTrad: 0.01 }, 'Unrecognized key'],
    ['unknown nested field', { regimeMultipliers: { bull: { sl: 1, tp: 1, x: 1 }, sideways: { sl: 1, tp: 1 }, bear: { sl: 1, tp: 1 } } }, 'Unrecognized key'],
  ])('rejects %s', (_name, input, message) => {
    const r = riskSettingsSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('\n')).toContain(message);
  });
});
