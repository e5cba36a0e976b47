import { describe, expect, it } from 'vitest';
import { checkStops, computeStops, trailStop } from '../../../lib/risk/index.ts';
import type { Regime } from '../../../lib/strategy/signal.ts';
import { settings } from './fixtures.ts';

const s = settings(); // SL 2 ATR in [0.5 %, 8 %], TP 3 ATR in [1 %, 25 %]

describe('computeStops', () => {
  it.each<[string, number, Regime, number, number]>([
    ['bull, 1 % ATR', 0.01, 'bull', 0.02, 0.0375],
    ['sideways, 1 % ATR', 0.01, 'sideways', 0.018, 0.024],
    ['bear, 1 % ATR', 0.01, 'bear', 0.015, 0.018],
    ['tiny ATR clamps to the minimums', 0.0001, 'bull', 0.005, 0.01],
    ['huge ATR clamps to the maximums', 0.2, 'bull', 0.08, 0.25],
    ['NaN ATR takes the widest stop', Number.NaN, 'bull', 0.08, 0.25],
    ['zero ATR takes the widest stop', 0, 'sideways', 0.08, 0.25],
  ])('%s', (_name, atrPct, regime, sl, tp) => {
    const r = computeStops(100, atrPct, regime, s);
    expect(r.slPct).toBeCloseTo(sl, 12);
    expect(r.tpPct).toBeCloseTo(tp, 12);
    expect(r.stopLoss).toBeCloseTo(100 * (1 - sl), 10);
    expect(r.takeProfit).toBeCloseTo(100 * (1 + tp), 10);
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
  const on = settings({ trailAtrMultiple: 2 });
  it.each([
    ['off by default', s, 90, 110, 0.01, null],
    ['moves up to 2 ATR under the price', on, 90, 110, 0.01, 110 * 0.98],
    ['never moves down', on, 108, 110, 0.01, null],
    ['distance clamped to maxSlPct', on, 50, 100, 0.1, 92],
    ['needs an ATR', on, 90, 110, Number.NaN, null],
  ] as const)('%s', (_name, st, stop, price, atrPct, want) => {
    const r = trailStop(stop, price, atrPct, st);
    if (want === null) expect(r).toBeNull();
    else expect(r).toBeCloseTo(want, 10);
  });
});
