import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignCloses, correlationMatrix, correlationMatrixOfReturns } from '../../../lib/risk/correlation.ts';
import { krakenHourly } from '../strategy/ohlcv.ts';

const returnsOf = (closes: readonly number[]): Float64Array => Float64Array.from(closes.slice(1), (c, i) => Math.log(c / closes[i]!));

describe('correlationMatrixOfReturns', () => {
  it('gives correlationMatrix of the closes exactly, on real candles', () => {
    const closes = alignCloses({ 'SOL/USD': krakenHourly('SOL').slice(-400), 'BTC/USD': krakenHourly('BTC').slice(-400), 'ETH/USD': krakenHourly('ETH').slice(-400) });
    const returns = Object.fromEntries(Object.entries(closes).map(([p, c]) => [p, returnsOf(c)]));
    for (const w of [2, 9, 10, 168, 1000]) expect(correlationMatrixOfReturns(returns, w)).toEqual(correlationMatrix(closes, w));
  });

  it('gives correlationMatrix exactly for series of unequal lengths', () => {
    const series = fc.array(fc.double({ min: 0.01, max: 1000, noNaN: true }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(series, series, series, fc.integer({ min: 2, max: 50 }), (a, b, c, w) => {
        const closes = { A: a, C: c, B: b };
        const returns = { A: returnsOf(a), C: returnsOf(c), B: returnsOf(b) };
        expect(correlationMatrixOfReturns(returns, w)).toEqual(correlationMatrix(closes, w));
      }),
    );
  });

  it.each([1, 2.5])('refuses the window %d as correlationMatrix does', (w) => {
    expect(() => correlationMatrixOfReturns({ A: new Float64Array(20) }, w)).toThrow(RangeError);
  });
});
