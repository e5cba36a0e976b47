import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { forwardLabels, netReturn } from '../../../lib/ml/labels.ts';

const bar = (i: number, close: number): Candle => ({ pair: 'BTC/USD', interval: 3600, openTime: i * 3_600_000, open: close, high: close, low: close, close, volume: 1 });

describe('labels', () => {
  it.each([
    { entry: 100, exit: 100, fee: 0.0026, want: 0.9974 ** 2 - 1 },
    { entry: 100, exit: 100.5, fee: 0.0026, want: 1.005 * 0.9974 ** 2 - 1 }, // +0.5 % gross is still a loss net of 0.52 %
    { entry: 100, exit: 101, fee: 0.0026, want: 1.01 * 0.9974 ** 2 - 1 },
    { entry: 100, exit: 110, fee: 0, want: 0.1 },
  ])('netReturn($entry → $exit, fee $fee)', ({ entry, exit, fee, want }) => expect(netReturn(entry, exit, fee)).toBeCloseTo(want, 12));

  it('labels 1 only when the forward return clears round-trip fees; the last h bars are unknown', () => {
    const candles = [100, 100.4, 101, 100.3, 100].map((c, i) => bar(i, c));
    const L = forwardLabels(candles, { horizonBars: 2, feeRate: 0.0026 });
    expect(L.map((l) => l?.y ?? null)).toEqual([1, 0, 0, null, null]);
    expect(L[0]?.endTime).toBe(3 * 3_600_000); // close of bar 2
    expect(L[1]?.grossReturn).toBeCloseTo(100.3 / 100.4 - 1, 12);
  });

  it('rejects a non-integer horizon', () => expect(() => forwardLabels([bar(0, 1)], { horizonBars: 1.5, feeRate: 0 })).toThrow(/horizonBars/));
});
