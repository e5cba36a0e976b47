import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../lib/clock.ts';
import { closeTime, type Candle } from '../../../lib/market/candle.ts';
import { CsvReplayFeed } from '../../../lib/market/replay.ts';

const H = 3_600_000;
const T0 = Date.UTC(2021, 6, 1);
const data = (name: string) => new URL(`../../../data/ohlcv/kraken_${name}_1h.csv`, import.meta.url).pathname;
const bar = (pair: string, i: number, interval = 3600): Candle => ({ pair, interval, openTime: T0 + i * H, open: 1, high: 1, low: 1, close: 1, volume: 1 });

describe('CSV replay feed', () => {
  it('replays three real pairs in close-time order, each bar only after it closed', () => {
    const clock = new VirtualClock(T0);
    const feed = CsvReplayFeed.fromFiles({ 'SOL/USD': data('SOLUSD'), 'BTC/USD': data('BTCUSD'), 'ETH/USD': data('ETHUSD') }, clock, { from: T0, to: T0 + 48 * H });
    const seen: Array<[number, Candle[]]> = [];
    for (const step of feed.steps()) {
      expect(clock.now()).toBe(step.time);
      for (const c of step.candles) expect(closeTime(c)).toBe(step.time);
      seen.push([step.time, step.candles]);
    }
    expect(feed.done).toBe(true);
    expect(seen).toHaveLength(48);
    expect(seen[0]![1].map((c) => c.pair)).toEqual(['BTC/USD', 'ETH/USD', 'SOL/USD']);
    const all = seen.flatMap(([, cs]) => cs);
    expect(all).toHaveLength(144);
    for (let i = 1; i < all.length; i++) expect(closeTime(all[i]!)).toBeGreaterThanOrEqual(closeTime(all[i - 1]!));
    expect(all[0]).toMatchObject({ pair: 'BTC/USD', openTime: T0 });
  });

  it('poll() hands out nothing before a bar closes, then everything that closed meanwhile', () => {
    const clock = new VirtualClock(T0);
    const feed = new CsvReplayFeed({ 'BTC/USD': [bar('BTC/USD', 0), bar('BTC/USD', 1), bar('BTC/USD', 2)], 'ETH/USD': [bar('ETH/USD', 1)] }, clock);
    expect(feed.poll()).toEqual([]);
    clock.advance(H - 1);
    expect(feed.poll()).toEqual([]);
    clock.advance(1);
    expect(feed.poll().map((c) => c.pair)).toEqual(['BTC/USD']);
    clock.advance(2 * H);
    expect(feed.poll().map((c) => `${c.pair}@${(c.openTime - T0) / H}`)).toEqual(['BTC/USD@1', 'ETH/USD@1', 'BTC/USD@2']);
    expect(feed.nextCloseTime()).toBeNull();
  });

  it('skips bars closed before the clock starts and mixes intervals by close time', () => {
    const clock = new VirtualClock(T0 + 2 * H);
    const daily = { ...bar('SOL/USD', 0, 86400) };
    const feed = new CsvReplayFeed({ 'BTC/USD': [bar('BTC/USD', 0), bar('BTC/USD', 5)], 'SOL/USD': [daily] }, clock);
    expect(feed.nextCloseTime()).toBe(T0 + 6 * H);
    expect([...feed.steps()].map((s) => s.candles.map((c) => c.pair))).toEqual([['BTC/USD'], ['SOL/USD']]);
  });

  it.each([
    ['out of order', { 'BTC/USD': [bar('BTC/USD', 1), bar('BTC/USD', 0)] }, /increasing time order/],
    ['wrong pair', { 'BTC/USD': [bar('ETH/USD', 0)] }, /holds a ETH\/USD bar/],
  ])('refuses a series %s', (_name, series, msg) => {
    expect(() => new CsvReplayFeed(series, new VirtualClock(T0))).toThrow(msg);
  });
});
