import { describe, expect, it } from 'vitest';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { fromInput, toInput, validateSettings, type FieldSpec } from '../../../ui/src/lib/settings-fields.ts';

const pct: FieldSpec = { key: 'riskPerTrade', label: 'Risk per trade', type: 'pct' };
const defaults = riskSettingsSchema.parse({}) as Record<string, unknown>;

describe('settings forms, validated with the server schemas', () => {
  it('shows fractions as percentages and reads them back', () => {
    expect(toInput(pct, 0.03)).toBe('3');
    expect(fromInput(pct, '2.5')).toBeCloseTo(0.025, 12);
    expect(fromInput(pct, '')).toBeNaN();
    expect(fromInput({ key: 'pairs', label: 'Pairs', type: 'list' }, 'btc/usd, ETH/USD,')).toEqual(['BTC/USD', 'ETH/USD']);
  });

  it("reports the server schema's own message on the field, cross-field rules included", () => {
    expect(validateSettings('risk', defaults, { riskPerTrade: 0.09 }).fields).toEqual({ riskPerTrade: 'riskPerTrade must be ≤ 0.05' });
    expect(validateSettings('risk', defaults, { hardDailyDrawdown: 0.01 }).fields.hardDailyDrawdown).toMatch(/must exceed softDailyDrawdown/);
    expect(validateSettings('risk', defaults, { riskPerTrade: 0.02 })).toEqual({ fields: {}, other: [] });
    expect(validateSettings('trading', {}, { pairs: ['BTC/EUR'] }).fields.pairs).toMatch(/spot USD pairs/);
  });
});
