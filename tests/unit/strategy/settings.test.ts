import { describe, expect, it } from 'vitest';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';

describe('tradingSettingsSchema', () => {
  it('parse({}) gives the defaults', () => {
    expect(tradingSettingsSchema.parse({})).toMatchObject({
      pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'],
      entryThreshold: 0.5,
      exitThreshold: 0.47,
      signalHorizonBars: 168,
      candleInterval: 3600,
      decisionInterval: 86_400,
      maxOpenPositions: 3,
      entryOrderType: 'market',
    });
    expect(tradingSettingsSchema.parse({})).not.toHaveProperty('baseline');
  });

  it.each([
    ['a non-USD pair', { pairs: ['BTC/EUR'] }, 'pairs must be spot USD pairs'],
    ['a repeated pair', { pairs: ['BTC/USD', 'BTC/USD'] }, 'pairs must not repeat'],
    ['an empty universe', { pairs: [] }, 'at least one pair'],
    ['exit threshold not below entry', { entryThreshold: 0.6, exitThreshold: 0.6 }, 'exitThreshold (0.6) must be below entryThreshold (0.6)'],
    ['entry threshold under 0.5', { entryThreshold: 0.4 }, 'entryThreshold must be ≥ 0.5'],
    ['an odd candle interval', { candleInterval: 7200 }, 'candleInterval must be one of'],
    ['an odd decision interval', { decisionInterval: 7200 }, 'decisionInterval must be one of'],
    ['decisions more often than candles', { candleInterval: 14_400, decisionInterval: 3600 }, 'decisionInterval (3600) must be a multiple of candleInterval (14400)'],
    ['zero max positions', { maxOpenPositions: 0 }, 'maxOpenPositions must be ≥ 1'],
    // Scoring computes one baseline signal per pair for all accounts: per-account parameters could never apply.
    ['per-account baseline parameters', { baseline: { fastPeriod: 12, slowPeriod: 48, trendPeriod: 200, atrPeriod: 14, volWindow: 48, maxAtrPct: 0.05, gain: 1.5, lookback: 320 } }, 'Unrecognized key: "baseline"'],
    ['unknown field', { entryThreshhold: 0.7 }, 'Unrecognized key'],
  ])('rejects %s', (_name, input, message) => {
    const r = tradingSettingsSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('\n')).toContain(message);
  });
});
