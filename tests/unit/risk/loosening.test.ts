import { describe, expect, it } from 'vitest';
import { loosenedRiskLimits } from '../../../lib/risk/loosening.ts';
import { riskSettingsSchema, type RiskSettings } from '../../../lib/risk/settings.ts';

const base: RiskSettings = riskSettingsSchema.parse({});
const with_ = (patch: Partial<RiskSettings>): RiskSettings => riskSettingsSchema.parse({ ...base, ...patch });

describe('loosenedRiskLimits: which changes need step-up', () => {
  it.each<[Partial<RiskSettings>, string[]]>([
    [{ riskPerTrade: 0.04 }, ['riskPerTrade']],
    [{ maxPairExposure: 0.3 }, ['maxPairExposure']],
    [{ maxGroupExposure: 0.6 }, ['maxGroupExposure']],
    [{ softDailyDrawdown: 0.04 }, ['softDailyDrawdown']],
    [{ hardDailyDrawdown: 0.1 }, ['hardDailyDrawdown']],
    [{ maxSlPct: 0.3 }, ['maxSlPct']],
    [{ volTargetAnnual: 0.8 }, ['volTargetAnnual']],
    [{ maxVolScale: 2 }, ['maxVolScale']],
    [{ correlationThreshold: 0.9 }, ['correlationThreshold']],
    [{ edgeMargin: 0 }, ['edgeMargin']],
    [{ riskPerTrade: 0.005, maxPairExposure: 0.3 }, ['maxPairExposure']],
  ])('%j loosens %j', (patch, fields) => {
    expect(loosenedRiskLimits(base, with_(patch))).toEqual(fields);
  });

  it('tightening, or changing what only shapes orders, needs none', () => {
    for (const patch of [{ riskPerTrade: 0.005 }, { maxPairExposure: 0.1, maxGroupExposure: 0.3 }, { hardDailyDrawdown: 0.04 }, { edgeMargin: 0.01 }, { slAtrMultiple: 2 }, { correlationWindow: 300 }, {}])
      expect(loosenedRiskLimits(base, with_(patch)), JSON.stringify(patch)).toEqual([]);
  });

  it('turning flattenOnHalt off loosens; turning it on does not', () => {
    const on = with_({ flattenOnHalt: true });
    expect(loosenedRiskLimits(base, on)).toEqual([]);
    expect(loosenedRiskLimits(on, base)).toEqual(['flattenOnHalt']);
  });
});
