import { describe, expect, it } from 'vitest';
import { parseCandleCsv } from './csv.ts';
import { hourly } from './helpers.ts';
import { EUR_USD, PAIRS } from './markets.ts';
import { aggregate, buildPricePath } from './prices.ts';

describe('candle CSV reader', () => {
  it('reads the repository format', () => {
    const cs = parseCandleCsv('time,open,high,low,close,volume\n2021-01-01T00:00:00Z,1,2,0.5,1.5,10\n2021-01-01T01:00:00Z,1.5,3,1,2,5\n', 'BTC/USD', 3600);
    expect(cs).toEqual([
      { pair: 'BTC/USD', interval: 3600, openTime: Date.UTC(2021, 0, 1, 0), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
      { pair: 'BTC/USD', interval: 3600, openTime: Date.UTC(2021, 0, 1, 1), open: 1.5, high: 3, low: 1, close: 2, volume: 5 },
    ]);
  });

  it.each([
    ['time,o,h,l,c,v\n', /unexpected candle CSV header/],
    ['time,open,high,low,close,volume\n2021-01-01T00:00:00Z,1,2,x,1.5,10\n', /bad candle CSV row 2/],
    ['time,open,high,low,close,volume\nnot-a-date,1,2,1,1.5,10\n', /bad candle CSV row 2/],
  ])('refuses %j', (text, error) => {
    expect(() => parseCandleCsv(text, 'BTC/USD', 3600)).toThrow(error);
  });
});

describe('aggregate', () => {
  it('builds wider candles aligned to the wider interval', () => {
    // 02:00..05:00 hourly → 4h buckets [00:00) and [04:00)
    const cs = hourly('BTC/USD', [[1, 2, 0.5, 1.5], [1.5, 4, 1, 3], [3, 3.5, 2, 2.5], [2.5, 2.6, 0.1, 1]], Date.UTC(2024, 0, 1, 2));
    expect(aggregate(cs, 4).map(({ openTime, open, high, low, close, volume, interval }) => ({ openTime, open, high, low, close, volume, interval }))).toEqual([
      { openTime: Date.UTC(2024, 0, 1, 0), open: 1, high: 4, low: 0.5, close: 3, volume: 20, interval: 14_400 },
      { openTime: Date.UTC(2024, 0, 1, 4), open: 3, high: 3.5, low: 0.1, close: 1, volume: 20, interval: 14_400 },
    ]);
  });
});

describe('price path', () => {
  const btc = hourly('BTC/USD', [[100, 110, 90, 105], [105, 120, 100, 110], [110, 111, 109, 110]]);
  const eth = hourly('ETH/USD', [[10, 11, 9, 10.5], [10.5, 12, 10, 11], [11, 11, 11, 11]]);
  const sol = hourly('SOL/USD', [[2, 2, 2, 2]], btc[2]!.openTime); // listed only at the last hour
  const path = buildPricePath({ 'BTC/USD': btc, 'ETH/USD': eth, 'SOL/USD': sol }, PAIRS, 0);

  it('uses supplied series as they are and aligns late listings to the timeline', () => {
    expect(path.series('XXBTZUSD')).toBe(btc);
    const s = path.series('SOLUSD');
    expect(s.map((c) => c.close)).toEqual([2, 2, 2]);
    expect(s[0]!.volume).toBe(0); // before listing: flat, no volume
  });

  it('derives ETH/BTC as a ratio and BTC/EUR through the EUR rate', () => {
    const ethbtc = path.series('XETHXXBT');
    expect(ethbtc[1]!.close).toBeCloseTo(11 / 110, 12);
    expect(ethbtc[1]!.high).toBeGreaterThanOrEqual(Math.max(ethbtc[1]!.open, ethbtc[1]!.close));
    expect(path.series('XXBTZEUR')[0]!.close).toBeCloseTo(105 / EUR_USD, 9);
  });

  it('stablecoins sit at their peg with a tiny band; proxies follow the primary shape', () => {
    expect(path.series('USDCUSD').every((c) => c.close === 1 && c.high - c.low < 0.001)).toBe(true);
    const ada = path.series('ADAUSD');
    expect(ada[0]!.close).toBeCloseTo(0.45, 12);
    expect(ada[1]!.close / ada[0]!.close).toBeCloseTo(110 / 105, 12);
  });
});
