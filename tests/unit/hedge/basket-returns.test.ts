import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { basketVolAnnual, basketVolOfReturns } from '../../../lib/hedge/inputs.ts';
import { alignCloses } from '../../../lib/risk/correlation.ts';
import { krakenHourly } from '../strategy/ohlcv.ts';

const returnsOf = (closes: readonly number[]): Float64Array => Float64Array.from(closes.slice(1), (c, i) => Math.log(c / closes[i]!));

describe('basketVolOfReturns', () => {
  it('gives basketVolAnnual of the closes bit for bit, on real candles', () => {
    const closes = alignCloses({ 'BTC/USD': krakenHourly('BTC').slice(-500), 'ETH/USD': krakenHourly('ETH').slice(-500), 'SOL/USD': krakenHourly('SOL').slice(-500) });
    const returns = Object.fromEntries(Object.entries(closes).map(([p, c]) => [p, returnsOf(c)]));
    const weights = { 'BTC/USD': 1, 'ETH/USD': 1, 'SOL/USD': 1 };
    for (const w of [1, 2, 168, 720]) expect(Object.is(basketVolOfReturns(returns, weights, w, 3600), basketVolAnnual(closes, weights, w, 3600))).toBe(true);
  });

  it('gives basketVolAnnual exactly for any weights and lengths (NaN included)', () => {
    const series = fc.array(fc.double({ min: 0.01, max: 1000, noNaN: true }), { minLength: 1, maxLength: 30 });
    const weight = fc.oneof(fc.constant(0), fc.double({ min: -1, max: 5, noNaN: true }));
    fc.assert(
      fc.property(series, series, weight, weight, fc.integer({ min: 0, max: 40 }), (a, b, wa, wb, win) => {
        const weights = { A: wa, B: wb, Z: 1 };
        const got = basketVolOfReturns({ A: returnsOf(a), B: returnsOf(b) }, weights, win, 3600);
        expect(Object.is(got, basketVolAnnual({ A: a, B: b }, weights, win, 3600))).toBe(true);
      }),
    );
  });
});
