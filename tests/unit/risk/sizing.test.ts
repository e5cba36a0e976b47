import { describe, expect, it } from 'vitest';
import { annualiseVol, positionSize, volScale } from '../../../lib/risk/index.ts';
import { settings } from './fixtures.ts';

const s = settings(); // 3 % risk per trade, 15 % annual vol per position, weight ≤ 1
const base = { equity: 100_000, price: 100, slPct: 0.15, realisedVolAnnual: 0.6, takerFee: 0.0026, slippage: 0.0005 };
const costs = 2 * 0.0026 + 2 * 0.0005;

describe('positionSize', () => {
  it.each([
    // Volatility targeting: 15 % / 60 % = a quarter of equity; the risk cap 3 % / (15 % + 0.62 %) ≈ 19 % binds.
    ['the loss at the stop caps a wide stop', {}, (100_000 * (0.03 / (0.15 + costs))) / 100],
    // A 5 % stop allows 58 % by risk: the volatility target (25 %) binds.
    ['a tighter stop: the volatility target binds', { slPct: 0.05 }, (100_000 * 0.25) / 100],
    ['twice the volatility halves the target weight', { slPct: 0.05, realisedVolAnnual: 1.2 }, (100_000 * 0.125) / 100],
    ['a calm market is capped at maxVolScale of equity', { slPct: 0.02, realisedVolAnnual: 0.05 }, Math.min(100_000 * 1, (100_000 * 0.03) / (0.02 + costs)) / 100],
    ['unknown volatility: no position', { realisedVolAnnual: Number.NaN }, 0],
    ['no equity, no position', { equity: 0 }, 0],
    ['no stop distance, no position', { slPct: 0 }, 0],
  ])('%s', (_name, over, want) => expect(positionSize({ ...base, ...over }, s)).toBeCloseTo(want, 9));

  it('losing at the stop never costs more than riskPerTrade of equity, fees included', () => {
    for (const slPct of [0.01, 0.05, 0.15, 0.25])
      for (const vol of [0.2, 0.6, 1.5]) {
        const q = positionSize({ ...base, slPct, realisedVolAnnual: vol }, s);
        const loss = q * base.price * (slPct + costs);
        expect(loss).toBeLessThanOrEqual(3_000 + 1e-6);
      }
  });

  it('is the volatility target whenever the stop allows it: weight × realised vol = target', () => {
    const q = positionSize({ ...base, slPct: 0.03, realisedVolAnnual: 0.9 }, s);
    expect(((q * base.price) / base.equity) * 0.9).toBeCloseTo(0.15, 12);
  });
});

describe('volatility helpers', () => {
  it.each([
    [0.25, 2],
    [1, 0.5],
    [0.1, 5],
    [0, 0],
    [Number.POSITIVE_INFINITY, 0],
  ])('volScale(%d) = %d', (vol, want) => expect(volScale(vol, settings({ volTargetAnnual: 0.5, maxVolScale: 5 }))).toBe(want));
  it('annualises per-bar volatility by the square root of bars per year', () => {
    expect(annualiseVol(0.01, 3600)).toBeCloseTo(0.01 * Math.sqrt(8760), 12);
    expect(annualiseVol(0.02, 86_400)).toBeCloseTo(0.02 * Math.sqrt(365), 12);
  });
});
