import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../lib/clock.ts';
import { candlesFromChart, ohlcIntervalForDays, RollingLimiter, type OhlcDays } from '../../../lib/market/coingecko.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

describe('candlesFromChart', () => {
  it('hourly points: open at the hour, close at the next hour’s point, volume from the 24 h USD volume', () => {
    const prices: Array<[number, number]> = [
      [T0 + 37_000, 100],
      [T0 + H + 12_000, 110],
      [T0 + 2 * H + 5_000, 105],
    ];
    const volumes = new Map([[T0 + 37_000, 2_520_000]]);
    expect(candlesFromChart('BTC/USD', prices, volumes)).toEqual([
      { pair: 'BTC/USD', interval: 3600, openTime: T0, open: 100, high: 110, low: 100, close: 110, volume: 2_520_000 / 24 / 105 },
      { pair: 'BTC/USD', interval: 3600, openTime: T0 + H, open: 110, high: 110, low: 105, close: 105, volume: 0 },
    ]); // the last hour has no following point: it cannot be closed
  });

  it('5-minute points (a range within a day of now) fold into one bar per hour with real extremes', () => {
    const prices = Array.from({ length: 25 }, (_, i): [number, number] => [T0 + i * 300_000, 100 + (i === 7 ? 9 : i === 3 ? -4 : 0)]);
    const bars = candlesFromChart('ETH/USD', prices, new Map()); // 0:00–2:00; the 2:00 point only closes 1:00
    expect(bars.map((b) => (b.openTime - T0) / H)).toEqual([0, 1]);
    expect(bars[0]).toMatchObject({ openTime: T0, open: 100, high: 109, low: 96, close: 100 });
  });

  it('an hour without points is left out (a gap for validation to flag)', () => {
    const prices: Array<[number, number]> = [[T0, 1], [T0 + H, 2], [T0 + 3 * H, 3], [T0 + 4 * H, 4]];
    expect(candlesFromChart('SOL/USD', prices, new Map()).map((c) => (c.openTime - T0) / H)).toEqual([0, 3]);
  });
});

describe('ohlc granularity', () => {
  it.each<[OhlcDays, number]>([[1, 1800], [7, 14_400], [14, 14_400], [30, 14_400], [90, 345_600], [180, 345_600], [365, 345_600], ['max', 345_600]])('days=%s → %is', (d, s) => {
    expect(ohlcIntervalForDays(d)).toBe(s);
  });
});

describe('RollingLimiter', () => {
  it('lets `limit` calls through per rolling window and sleeps exactly until the oldest leaves it', async () => {
    const clock = new VirtualClock(T0);
    const sleeps: number[] = [];
    const lim = new RollingLimiter(3, 60_000, clock, async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    });
    const at: number[] = [];
    for (let i = 0; i < 3; i++) {
      await lim.acquire();
      at.push(clock.now() - T0);
      clock.advance(10_000);
    }
    for (let i = 0; i < 4; i++) {
      await lim.acquire();
      at.push(clock.now() - T0);
    }
    expect(at).toEqual([0, 10_000, 20_000, 60_000, 70_000, 80_000, 120_000]);
    expect(sleeps).toEqual([30_000, 10_000, 10_000, 40_000]);
  });
});
