import { describe, expect, it } from 'vitest';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';

describe('hedgeSettingsSchema', () => {
  it('parse({}) gives the defaults', () => {
    expect(hedgeSettingsSchema.parse({})).toEqual({
      mode: 'auto',
      manualRatio: null,
      manualExpiry: null,
      base: 0.1,
      min: 0,
      max: 0.8,
      volCoefficient: 0.5,
      volReference: 0.6,
      drawdownCoefficient: 2,
      band: 0.05,
      tolerance: 0.03,
      instrument: 'USD',
    });
  });

  it('accepts a manual override with expiry', () => {
    expect(hedgeSettingsSchema.parse({ mode: 'manual', manualRatio: 0.5, manualExpiry: Date.UTC(2026, 11, 2) })).toMatchObject({ mode: 'manual', manualRatio: 0.5 });
  });

  it.each([
    ['base under min', { min: 0.2, base: 0.1 }, 'min ≤ base ≤ max'],
    ['base over max', { base: 0.9, max: 0.8 }, 'min ≤ base ≤ max'],
    ['manual mode without a ratio', { mode: 'manual' }, 'manual mode needs a manualRatio'],
    ['ratio above 1', { manualRatio: 1.2 }, 'manualRatio must be ≤ 1'],
    ['negative band', { band: -0.01 }, 'band must be ≥ 0'],
    ['a derivative instrument', { instrument: 'BTC-PERP' }, 'Invalid option'],
    ['a fractional expiry', { manualExpiry: 1.5 }, 'manualExpiry must be an epoch-ms integer'],
    ['unknown field', { leverage: 2 }, 'Unrecognized key'],
  ])('rejects %s', (_name, input, message) => {
    const r = hedgeSettingsSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('\n')).toContain(message);
  });
});
