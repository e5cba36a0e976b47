import { ATR, EMA, SMA } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { atr, ema, logReturnStd, sma } from '../../../lib/strategy/indicators.ts';
import { krakenHourly } from './ohlcv.ts';

describe('indicators', () => {
  const bars = krakenHourly('BTC').slice(0, 700);
  const closes = bars.map((b) => b.close);

  it.each([12, 48])('EMA(%d) agrees with trading-signals once the seed has decayed', (period) => {
    const ref = new EMA(period);
    for (const c of closes) ref.update(c, false);
    expect(ema(closes, period)).toBeCloseTo(ref.getResultOrThrow(), 6);
  });

  it('SMA(200) agrees with trading-signals', () => {
    const ref = new SMA(200);
    for (const c of closes) ref.update(c, false);
    expect(sma(closes, 200)).toBeCloseTo(ref.getResultOrThrow(), 6);
  });

  it('Wilder ATR(14) agrees with trading-signals once the seed has decayed', () => {
    const ref = new ATR(14);
    for (const b of bars) ref.update({ high: b.high, low: b.low, close: b.close }, false);
    expect(atr(bars, 14)).toBeCloseTo(ref.getResultOrThrow(), 6);
  });

  it('hand-computed small cases', () => {
    expect(ema([1, 2, 3, 4], 2)).toBeCloseTo(((1 + 2) / 2) * (1 / 3) ** 2 + 3 * (2 / 3) * (1 / 3) + 4 * (2 / 3), 12);
    expect(sma([1, 2, 3, 4], 2)).toBe(3.5);
    expect(sma([1, 2, 3, 4], 2, 3)).toBe(2.5);
    // TRs: max(3-1, |3-2|, |1-2|)=2, max(4-2, |4-2|, |2-2|)=2 → seed 2, then (2·1 + max(5-3,|5-3|,|3-3|)=2)/2 = 2
    const b = [{ high: 2, low: 1, close: 2 }, { high: 3, low: 1, close: 2 }, { high: 4, low: 2, close: 3 }, { high: 5, low: 3, close: 4 }];
    expect(atr(b, 2)).toBe(2);
    expect(logReturnStd([1, Math.E, 1], 2)).toBeCloseTo(Math.SQRT2, 12);
  });

  it('is causal: reading up to `end` ignores later values', () => {
    const spiked = [...closes.slice(0, 400), 1e9, ...closes.slice(401)];
    expect(ema(spiked, 12, 400)).toBe(ema(closes, 12, 400));
    expect(sma(spiked, 20, 400)).toBe(sma(closes, 20, 400));
    expect(logReturnStd(spiked, 48, 400)).toBe(logReturnStd(closes, 48, 400));
  });

  it.each([
    ['ema', () => ema([1, 2], 3)],
    ['sma', () => sma([1, 2], 3)],
    ['atr', () => atr([{ high: 1, low: 1, close: 1 }], 1)],
    ['std', () => logReturnStd([1, 2], 2)],
  ])('%s with too little data is NaN', (_n, f) => expect(f()).toBeNaN());
});
