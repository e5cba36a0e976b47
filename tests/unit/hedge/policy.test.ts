import { describe, expect, it } from 'vitest';
import { autoHedgeRatio, hedgeSettingsSchema, hedgeTarget, needsRebalance, type PreviousTarget } from '../../../lib/hedge/index.ts';

const s = hedgeSettingsSchema.parse({}); // base 10 %, [0, 80 %], vol 0.5 × (σ − 0.6), dd × 2, band 5 %, tolerance 3 %
const NOW = Date.UTC(2026, 11, 1, 12);

describe('autoHedgeRatio', () => {
  it.each([
    ['calm, no drawdown → base', 0.4, 0, 0.1],
    ['vol at the reference → base', 0.6, 0, 0.1],
    ['vol 0.4 above the reference → +0.2', 1.0, 0, 0.3],
    ['5 % drawdown → +0.1', 0.3, 0.05, 0.2],
    ['both', 1.0, 0.05, 0.4],
    ['clamped to max', 3, 0.3, 0.8],
    ['negative drawdown counts as none', 0.3, -0.1, 0.1],
    ['unknown vol counts as calm', Number.NaN, 0, 0.1],
  ])('%s', (_name, vol, dd, want) => expect(autoHedgeRatio({ realisedVolAnnual: vol, drawdown: dd }, s)).toBeCloseTo(want, 12));

  it('clamped to min', () => expect(autoHedgeRatio({ realisedVolAnnual: 0, drawdown: 0 }, { ...s, base: 0.2, min: 0.2 })).toBe(0.2));
});

describe('hedgeTarget', () => {
  const auto = (target: number): PreviousTarget => ({ target, mode: 'auto' });
  it.each([
    ['first cycle takes the formula', null, 1.0, 0, 0.3, true],
    ['raw within the band: hold', auto(0.28), 1.0, 0, 0.28, false],
    ['raw 0.04 under the band: hold', auto(0.26), 1.0, 0, 0.26, false],
    ['raw beyond the band: move', auto(0.2), 1.0, 0, 0.3, true],
    ['downward beyond the band: move', auto(0.4), 0.3, 0, 0.1, true],
    ['previous out of the bounds: move', auto(0.9), 3, 0.3, 0.8, true],
    ['leaving manual goes straight to the formula', { target: 0.32, mode: 'manual' }, 1.0, 0, 0.3, true],
  ])('%s', (_name, prev, vol, dd, target, changed) => {
    const t = hedgeTarget(prev as PreviousTarget | null, { realisedVolAnnual: vol, drawdown: dd }, NOW, s);
    expect(t.mode).toBe('auto');
    expect(t.target).toBeCloseTo(target, 12);
    expect(t.changed).toBe(changed);
  });

  it('does not churn on noisy inputs (hysteresis)', () => {
    let prev: PreviousTarget | null = null;
    let moves = 0;
    for (let k = 0; k < 200; k++) {
      const vol = 1.0 + 0.05 * Math.sin(k); // raw wobbles 0.275…0.325
      const t = hedgeTarget(prev, { realisedVolAnnual: vol, drawdown: 0 }, NOW + k, s);
      if (t.changed) moves++;
      prev = { target: t.target, mode: t.mode };
    }
    expect(moves).toBe(1); // the initial one
  });

  it.each([
    ['manual without expiry', { mode: 'manual' as const, manualRatio: 0.6, manualExpiry: null }, 'manual', 0.6],
    ['manual before expiry', { mode: 'manual' as const, manualRatio: 0.6, manualExpiry: NOW + 1 }, 'manual', 0.6],
    ['manual at expiry → auto', { mode: 'manual' as const, manualRatio: 0.6, manualExpiry: NOW }, 'auto', 0.1],
    ['manual ratio outside auto bounds is the admin’s call', { mode: 'manual' as const, manualRatio: 0.95, manualExpiry: null }, 'manual', 0.95],
  ])('%s', (_name, over, mode, target) => {
    const t = hedgeTarget(auto(0.1), { realisedVolAnnual: 0.3, drawdown: 0 }, NOW, { ...s, ...over });
    expect(t).toMatchObject({ mode, target });
    expect(t.raw).toBeCloseTo(0.1, 12);
  });
});

describe('needsRebalance', () => {
  it.each([
    [0.1, 0.12, false],
    [0.1, 0.13, false], // at the tolerance: no rebalance
    [0.1, 0.135, true],
    [0.3, 0.2, true],
  ])('actual %d vs target %d', (a, t, want) => expect(needsRebalance(a, t, 0.03)).toBe(want));
});
