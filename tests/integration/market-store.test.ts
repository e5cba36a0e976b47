import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../lib/market/candle.ts';
import { latestCandle, loadCandles, upsertCandles } from '../../lib/market/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const bar = (i: number, close = 100 + i, pair = 'BTC/USD'): Candle => ({
  pair,
  interval: 3600,
  openTime: T0 + i * H,
  open: 100 + i,
  high: close + 2,
  low: Math.min(100 + i, close) - 1,
  close,
  volume: 1.5 + i / 1000,
});

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('candle store', () => {
  it('upserting the same candles twice leaves the same rows; changed values are updated', async () => {
    const db = t.app.db;
    const series = Array.from({ length: 2500 }, (_, i) => bar(i)); // more than one batch
    expect(await upsertCandles(db, series, 'kraken')).toEqual({ inserted: 2500, updated: 0, unchanged: 0 });
    const before = await t.owner.query(`select count(*)::int as n, sum(close)::text as s from candles`);
    expect(await upsertCandles(db, series, 'kraken')).toEqual({ inserted: 0, updated: 0, unchanged: 2500 });
    const after = await t.owner.query(`select count(*)::int as n, sum(close)::text as s from candles`);
    expect(after.rows).toEqual(before.rows);

    const changed = [{ ...bar(10, 150), flags: ['outlier'] }, bar(2500)];
    expect(await upsertCandles(db, changed, 'coingecko')).toEqual({ inserted: 1, updated: 1, unchanged: 0 });
    const [row] = await loadCandles(db, 'BTC/USD', 3600, { from: T0 + 10 * H, to: T0 + 11 * H });
    expect(row).toMatchObject({ openTime: T0 + 10 * H, close: 150, high: 152, source: 'coingecko', flags: ['outlier'] });
    const { rows } = await t.owner.query(`select count(*)::int as n from candles`);
    expect(rows[0].n).toBe(2501);
  });

  it('round-trips numbers exactly through numeric and keeps the last copy of a repeated bar', async () => {
    const db = t.app.db;
    const c: Candle = { pair: 'ETH/USD', interval: 3600, openTime: T0, open: 1724.6, high: 1762.91, low: 700, close: 1759.4, volume: 74367.1924519502 };
    const tiny: Candle = { ...c, openTime: T0 + H, volume: 1e-8 };
    const res = await upsertCandles(db, [c, { ...tiny, close: 1000 }, tiny], 'csv', ['gap_before:2']);
    expect(res).toEqual({ inserted: 2, updated: 0, unchanged: 1 });
    const got = await loadCandles(db, 'ETH/USD', 3600);
    expect(got).toEqual([
      { ...c, source: 'csv', flags: ['gap_before:2'] },
      { ...tiny, source: 'csv', flags: ['gap_before:2'] },
    ]);
  });

  it('loads ranges ascending, the newest N with limit, and the latest bar', async () => {
    const db = t.app.db;
    const r = await loadCandles(db, 'BTC/USD', 3600, { from: T0 + 5 * H, to: T0 + 8 * H });
    expect(r.map((c) => (c.openTime - T0) / H)).toEqual([5, 6, 7]);
    const newest = await loadCandles(db, 'BTC/USD', 3600, { to: T0 + 100 * H, limit: 3 });
    expect(newest.map((c) => (c.openTime - T0) / H)).toEqual([97, 98, 99]);
    expect((await latestCandle(db, 'BTC/USD', 3600))?.openTime).toBe(T0 + 2500 * H);
    expect(await latestCandle(db, 'BTC/USD', 86400)).toBeNull();
    expect(await latestCandle(db, 'SOL/USD', 3600)).toBeNull();
  });
});
