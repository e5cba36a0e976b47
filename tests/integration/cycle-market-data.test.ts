import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MarketData, VIEW_BARS } from '../../lib/cycle/market-data.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { repoWindow } from '../helpers/candles.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * The bar's candles, read once per process and bar: the next bar's series extends the previous one
 * by its new candle (one row read, not the window) and must equal what a fresh read of the whole
 * window gives; a gap (a bar nobody read, a candle missing) reads the whole window again.
 */
const PAIRS = ['BTC/USD', 'ETH/USD'];
const HOUR = 3_600_000;
const FROM = Date.parse('2022-03-01T00:00:00Z');
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  for (const p of PAIRS) await upsertCandles(t.app.db, repoWindow(p, FROM, FROM + 48 * HOUR, VIEW_BARS + 10), 'csv');
});
afterAll(async () => {
  await t?.drop();
});

describe('MarketData history', () => {
  it('bar after bar equals a fresh read of the whole window, and reads the whole window after a gap', async () => {
    const data = new MarketData(t.app.db);
    const fresh = async (bar: number) => new MarketData(t.app.db).history(PAIRS, 3600, bar);
    const queries: string[] = [];
    const counted = new MarketData(new Proxy(t.app.db, {
      get(target, prop, receiver) {
        if (prop === 'select') queries.push('select');
        return Reflect.get(target, prop, receiver);
      },
    }));
    for (let bar = FROM; bar <= FROM + 6 * HOUR; bar += HOUR) {
      const got = await data.history(PAIRS, 3600, bar);
      expect(got).toEqual(await fresh(bar));
      for (const p of PAIRS) {
        expect(got[p]).toHaveLength(VIEW_BARS);
        expect(got[p]!.at(-1)!.openTime).toBe(bar);
      }
    }
    // A process that skipped a bar reads the whole window (a query per pair); after that, one query per bar: a row per pair.
    await counted.history(PAIRS, 3600, FROM + 10 * HOUR);
    expect(queries).toHaveLength(PAIRS.length);
    await counted.history(PAIRS, 3600, FROM + 11 * HOUR);
    expect(await counted.history(PAIRS, 3600, FROM + 12 * HOUR)).toEqual(await fresh(FROM + 12 * HOUR));
    expect(queries).toHaveLength(PAIRS.length + 2);
    // A missing candle: the series is not extended across the hole.
    await t.owner.query(`delete from candles where pair = 'ETH/USD' and open_time = $1`, [new Date(FROM + 13 * HOUR)]);
    const holed = await counted.history(PAIRS, 3600, FROM + 14 * HOUR);
    expect(holed).toEqual(await fresh(FROM + 14 * HOUR));
    expect(holed['ETH/USD']!.some((c) => c.openTime === FROM + 13 * HOUR)).toBe(false);
  });
});
