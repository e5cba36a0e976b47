import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeLogReturns, ema, emaPair, logReturnStd, stdOfLogReturns } from '../../../lib/strategy/indicators.ts';
import { krakenHourly } from './ohlcv.ts';

const bars = (closes: readonly number[]) => closes.map((close) => ({ close }));
const positive = fc.array(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 120 });

describe('closeLogReturns', () => {
  it('is Math.log(close_i / close_{i-1}) bit for bit, over any range', () => {
    fc.assert(
      fc.property(positive, fc.nat(), fc.nat(), (closes, a, b) => {
        const s = bars(closes);
        const from = 1 + (a % (s.length - 1));
        const to = from + (b % (s.length - from + 1));
        const got = closeLogReturns(s, from, to);
        expect(got.length).toBe(to - from);
        for (let k = 0; k < got.length; k++) expect(Object.is(got[k], Math.log(closes[from + k]! / closes[from + k - 1]!))).toBe(true);
      }),
    );
  });

  it('recomputes a return whose bars were replaced in the same array, and grows with it', () => {
    const s = bars([1, 2, 4, 8]);
    expect([...closeLogReturns(s, 1, 4)]).toEqual([Math.log(2), Math.log(2), Math.log(2)]);
    s[2] = { close: 3 };
    expect([...closeLogReturns(s, 1, 4)]).toEqual([Math.log(2), Math.log(3 / 2), Math.log(8 / 3)]);
    for (let i = 0; i < 300; i++) s.push({ close: 8 });
    const tail = closeLogReturns(s, 3, s.length);
    expect(tail[0]).toBe(Math.log(8 / 3));
    expect(tail[tail.length - 1]).toBe(0);
  });

  it.each([
    [0, 2],
    [1, 5],
    [3, 2],
  ])('refuses the range [%d, %d) of 4 bars', (from, to) => {
    expect(() => closeLogReturns(bars([1, 2, 3, 4]), from, to)).toThrow(RangeError);
  });
});

describe('stdOfLogReturns and emaPair agree bit for bit with the indicators they stand in for', () => {
  const btc = krakenHourly('BTC').slice(0, 500);
  const closes = btc.map((c) => c.close);

  it.each([2, 48, 168])('stdOfLogReturns(closeLogReturns(…, end - %d, end)) = logReturnStd', (w) => {
    expect(Object.is(stdOfLogReturns(closeLogReturns(btc, btc.length - w, btc.length)), logReturnStd(closes, w))).toBe(true);
  });

  it('emaPair = [ema(fast), ema(slow)] on any series', () => {
    fc.assert(
      fc.property(positive, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), (xs, f, d) => {
        const [a, b] = emaPair(xs, f, f + d);
        expect(Object.is(a, ema(xs, f))).toBe(true);
        expect(Object.is(b, ema(xs, f + d))).toBe(true);
      }),
    );
    const [fast, slow] = emaPair(closes, 12, 48);
    expect([fast, slow]).toEqual([ema(closes, 12), ema(closes, 48)]);
  });
});
