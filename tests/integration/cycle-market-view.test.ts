import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignedTails } from '../../lib/cycle/market-view.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { alignCloses } from '../../lib/risk/correlation.ts';

/**
 * The market view's fast alignment must give exactly what `alignCloses` gives on each series'
 * newest `window` candles — with shared hours, missing hours, different lengths and unsorted input.
 */
const HOUR = 3_600_000;
const candle = (pair: string, hour: number, close: number): Candle => ({ pair, interval: 3600, openTime: hour * HOUR, open: close, high: close, low: close, close, volume: 1 });

const seriesArb = fc.array(
  fc.record({
    hours: fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 40 }),
    sorted: fc.boolean(),
    drop: fc.integer({ min: 0, max: 3 }),
  }),
  { minLength: 1, maxLength: 4 },
);

const tail = <T>(xs: readonly T[], n: number): readonly T[] => (xs.length <= n ? xs : xs.slice(xs.length - n));

describe('alignedTails', () => {
  it('equals alignCloses of the tails (property)', () => {
    fc.assert(
      fc.property(seriesArb, fc.integer({ min: 1, max: 50 }), fc.boolean(), (specs, window, shared) => {
        const base = specs[0]!.hours.slice().sort((a, b) => a - b);
        const series: Record<string, Candle[]> = {};
        specs.forEach((s, i) => {
          // `shared`: every pair on the same hours (the fast path), less a few at the start for some.
          const hours = shared ? base.slice(i === 0 ? 0 : Math.min(s.drop, base.length - 1)) : s.hours.slice();
          if (s.sorted || shared) hours.sort((a, b) => a - b);
          series[`P${i}/USD`] = hours.map((h) => candle(`P${i}/USD`, h, 100 + i * 10 + h));
        });
        const expected = alignCloses(Object.fromEntries(Object.entries(series).map(([p, cs]) => [p, tail(cs, window)])));
        expect(alignedTails(series, window)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['identical hours', [[0, 1, 2, 3], [0, 1, 2, 3]], 3, { 'A/USD': [101, 102, 103], 'B/USD': [201, 202, 203] }],
    ['a missing hour in one pair', [[0, 1, 2, 3], [0, 1, 3]], 4, { 'A/USD': [100, 101, 103], 'B/USD': [200, 201, 203] }],
    ['one pair shorter', [[0, 1, 2, 3], [2, 3]], 4, { 'A/USD': [102, 103], 'B/USD': [202, 203] }],
  ])('%s', (_name, hours, window, expected) => {
    const series = { 'A/USD': hours[0]!.map((h) => candle('A/USD', h, 100 + h)), 'B/USD': hours[1]!.map((h) => candle('B/USD', h, 200 + h)) };
    expect(alignedTails(series, window)).toEqual(expected);
  });
});
