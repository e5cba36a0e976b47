import { describe, expect, it } from 'vitest';
import { checkStops, computeStops, horizonAtrPct, trailStop } from '../../../lib/risk/index.ts';
import type { Regime } from '../../../lib/strategy/signal.ts';
import { settings } from './fixtures.ts';

const s = settings(); // SL 3, TP 6 horizon ATRs (per-bar ATR × √24) in [2 %, 25 %] and [4 %, 60 %]
const day = Math.sqrt(24);

describe('computeStops', () => {
  it.each<[string, number, Regime, number, number]>([
    // regime multipliers: bull 1 / 1.25, sideways 0.9 / 0.8, bear 0.75 / 0.6
    ['bull, 1 % ATR per bar', 0.01, 'bull', 3 * 0.01 * day, 6 * 0.01 * day * 1.25],
    ['sideways, 1 % ATR per bar', 0.01, 'sideways', 3 * 0.01 * day * 0.9, 6 * 0.01 * day * 0.8],
    ['bear, 1 % ATR per bar', 0.01, 'bear', 3 * 0.01 * day * 0.75, 6 * 0.01 * day * 0.6],
    ['tiny ATR clamps to the minimums', 0.0001, 'bull', 0.02, 0.04],
    ['huge ATR clamps to the maximums', 0.2, 'bull', 0.25, 0.6],
    ['NaN ATR takes the widest stop', Number.NaN, 'bull', 0.25, 0.6],
    ['zero ATR takes the widest stop', 0, 'sideways', 0.25, 0.6],
  ])('%s', (_name, atrPct, regime, sl, tp) => {
    const r = computeStops(100, atrPct, regime, s);
    expect(r.slPct).toBeCloseTo(sl, 12);
    expect(r.tpPct).toBeCloseTo(tp, 12);
    expect(r.stopLoss).toBeCloseTo(100 * (1 - sl), 10);
    expect(r.takeProfit).toBeCloseTo(100 * (1 + tp), 10);
  });

  it('measures the ATR over atrHorizonBars: one bar gives the per-bar ATR', () => {
    const r = computeStops(100, 0.01, 'bull', settings({ atrHorizonBars: 1 }));
    expect(r.slPct).toBeCloseTo(0.03, 12);
    // A day's noise is √24 ≈ 4.9 hours' — the 1h stop would sit inside it.
    expect(computeStops(100, 0.01, 'bull', s).slPct / r.slPct).toBeCloseTo(day, 12);
    expect(horizonAtrPct(0.01, { atrHorizonBars: 4 })).toBeCloseTo(0.02, 12);
  });

  it('needs a positive entry price', () => expect(() => computeStops(0, 0.01, 'bull', s)).toThrow(RangeError));
});

describe('checkStops', () => {
  const pos = { stopLoss: 95, takeProfit: 110 };
  it.each([
    ['inside the range', { open: 100, high: 105, low: 96 }, null],
    ['low touches the stop', { open: 100, high: 101, low: 95 }, { hit: 'stop-loss', price: 95 }],
    ['high touches the take-profit', { open: 100, high: 110, low: 99 }, { hit: 'take-profit', price: 110 }],
    ['both in one bar: the stop wins', { open: 100, high: 111, low: 94 }, { hit: 'stop-loss', price: 95 }],
    ['gap down through the stop fills at the open', { open: 90, high: 92, low: 89 }, { hit: 'stop-loss', price: 90 }],
    ['gap up through the take-profit fills at the open', { open: 115, high: 116, low: 112 }, { hit: 'take-profit', price: 115 }],
    ['a price under the stop', 94.5, { hit: 'stop-loss', price: 94.5 }],
    ['a price between', 100, null],
  ] as const)('%s', (_name, bar, want) => expect(checkStops(pos, bar)).toEqual(want));

  it('no take-profit recorded: only the stop applies', () => {
    expect(checkStops({ stopLoss: 95, takeProfit: null }, { open: 100, high: 1e9, low: 96 })).toBeNull();
  });
});

describe('trailStop', () => {
  const off = settings({ trailAtrMultiple: 0 });
  const perBar = settings({ trailAtrMultiple: 2, atrHorizonBars: 1 });
  it.each([
    ['off at 0', off, 90, 110, 0.01, null],
    ['on by default: 6 horizon ATRs under the price', s, 80, 110, 0.005, 110 * (1 - 6 * 0.005 * day)],
    ['moves up to 2 ATR under the price', perBar, 90, 110, 0.01, 110 * 0.98],
    ['never moves down', perBar, 108, 110, 0.01, null],
    ['distance clamped to maxSlPct', perBar, 50, 100, 0.2, 75],
    ['distance clamped to minSlPct', perBar, 50, 100, 0.001, 98],
    ['needs an ATR', perBar, 90, 110, Number.NaN, null],
  ] as const)('%s', (_name, st, stop, price, atrPct, want) => {
    const r = trailStop(stop, price, atrPct, st);
    if (want === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(want, 10);
  });
});
