import { describe, expect, it } from 'vitest';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';

describe('tradingSettingsSchema', () => {
  it('parse({}) gives the defaults', () => {
    expect(tradingSettingsSchema.parse({})).toMatchObject({
      pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'],
      entryThreshold: 0.6,
      exitThreshold: 0.45,
      signalHorizonBars: 24,
      candleInterval: 3600,
      maxOpenPositions: 3,
      entryOrderType: 'market',
      baseline: { fastPeriod: 12, slowPeriod: 48, trendPeriod: 200, lookback: 320 },
    });
  });

  it.each([
    ['a non-USD pair', { pairs: ['BTC/EUR'] }, 'pairs must be spot USD pairs'],
    ['a repeated pair', { pairs: ['BTC/USD', 'BTC/USD'] }, 'pairs must not repeat'],
    ['an empty universe', { pairs: [] }, 'at least one pair'],
    ['exit threshold not below entry', { entryThreshold: 0.6, exitThreshold: 0.6 }, 'exitThreshold (0.6) must be below entryThreshold (0.6)'],
    ['entry threshold under 0.5', { entryThreshold: 0.4 }, 'entryThreshold must be ≥ 0.5'],
    ['an odd candle interval', { candleInterval: 7200 }, 'candleInterval must be one of'],
    ['zero max positions', { maxOpenPositions: 0 }, 'maxOpenPositions must be ≥ 1'],
    ['fast EMA not faster than slow', { baseline: { fastPeriod: 50, slowPeriod: 48, trendPeriod: 200, atrPeriod: 14, volWindow: 48, maxAtrPct: 0.05, gain: 1.5, lookback: 320 } }, 'fastPeriod must be < baseline.slowPeriod'],
    ['lookback shorter than the trend MA', { baseline: { fastPeriod: 12, slowPeriod: 48, trendPeriod: 200, atrPeriod: 14, volWindow: 48, maxAtrPct: 0.05, gain: 1.5, lookback: 100 } }, 'lookback must cover'],
    ['unknown field', { entryThreshhold: 0.7 }, 'Unrecognized key'],
  ])('rejects %s', (_name, input, message) => {
    const r = tradingSettingsSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('\n')).toContain(message);
  });
});
