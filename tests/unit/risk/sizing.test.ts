import { describe, expect, it } from 'vitest';
import { annualiseVol, positionSize, volScale } from '../../../lib/risk/index.ts';
import { settings } from './fixtures.ts';

const s = settings(); // 1 % risk, vol target 50 %, scale ≤ 1.5
const base = { equity: 100_000, price: 100, slPct: 0.02, realisedVolAnnual: 0.5, takerFee: 0.0026, slippage: 0.0005 };

describe('positionSize', () => {
  it.each([
    // 1000 USD at risk / (100 × (0.02 + 0.0062)) per unit
    ['vol on target', {}, 1_000 / (100 * 0.0262)],
    ['twice the target vol halves it', { realisedVolAnnual: 1 }, 500 / (100 * 0.0262)],
    ['calm market scales up, capped at 1.5', { realisedVolAnnual: 0.1 }, 1_500 / (100 * 0.0262)],
    ['unknown vol does not scale up', { realisedVolAnnual: Number.NaN }, 1_000 / (100 * 0.0262)],
    ['wider stop, smaller size', { slPct: 0.04 }, 1_000 / (100 * 0.0462)],
    ['no equity, no position', { equity: 0 }, 0],
    ['no stop distance, no position', { slPct: 0 }, 0],
  ])('%s', (_name, over, want) => expect(positionSize({ ...base, ...over }, s)).toBeCloseTo(want, 9));

  it('losing at the stop costs riskPerTrade of equity, fees included', () => {
    const q = positionSize(base, s);
    const loss = q * base.price * base.slPct + q * base.price * 2 * (base.takerFee + base.slippage);
    expect(loss).toBeCloseTo(1_000, 6);
  });
});

describe('volatility helpers', () => {
  it.each([
    [0.25, 2],
    [1, 0.5],
    [0, 1],
  ])('volScale(%d) = %d', (vol, want) => expect(volScale(vol, settings({ maxVolScale: 2 }))).toBe(want));
  it('annualises per-bar volatility by the square root of bars per year', () => {
    expect(annualiseVol(0.01, 3600)).toBeCloseTo(0.01 * Math.sqrt(8760), 12);
    expect(annualiseVol(0.02, 86_400)).toBeCloseTo(0.02 * Math.sqrt(365), 12);
  });
});
