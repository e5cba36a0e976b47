import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/clock.ts';
import { backfill } from '../../lib/market/backfill.ts';
import { CoinGeckoClient } from '../../lib/market/coingecko.ts';
import { ingestClosedCandles } from '../../lib/market/ingest.ts';
import { KrakenRestClient } from '../../lib/market/kraken-rest.ts';
import { loadCandles, upsertCandles } from '../../lib/market/store.ts';
import { loadRepoCandles, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';
import { startCoinGeckoFake, type CoinGeckoFake } from '../helpers/coingecko-fake.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const H = 3_600_000;
const repo = loadRepoCandles();
const START = 800;
const open = (pair: string, i: number) => repo[pair]![i]!.openTime;

let t: TestDatabase;
let emu: KrakenEmulator;
let kraken: KrakenRestClient;
let cg: CoinGeckoFake;
beforeAll(async () => {
  t = await createTestDatabase();
  emu = await startKrakenEmulator({ startIndex: START });
  kraken = new KrakenRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
  const clock = new VirtualClock(Date.UTC(2022, 0, 1));
  cg = await startCoinGeckoFake({ now: () => clock.now() });
});
afterAll(async () => {
  await emu?.close();
  await cg?.close();
  await t?.drop();
});

describe('ingestClosedCandles (the tick step) against the emulator and the real database', () => {
  const far = Date.UTC(2030, 0, 1);

  it('first run stores every closed bar Kraken has; a repeat stores nothing; new closes come in as they happen', async () => {
    const db = t.app.db;
    const first = (await ingestClosedCandles(db, kraken, ['BTC/USD', 'ETH/USD'], 3600, far)).ingested;
    expect(first.map((r) => [r.pair, r.newCandles, r.lastOpenTime, r.truncated])).toEqual([
      ['BTC/USD', 719, open('BTC/USD', START - 1), false],
      ['ETH/USD', 719, open('ETH/USD', START - 1), false],
    ]);
    const again = (await ingestClosedCandles(db, kraken, ['BTC/USD', 'ETH/USD'], 3600, far)).ingested;
    expect(again.map((r) => [r.newCandles, r.lastOpenTime])).toEqual([
      [0, open('BTC/USD', START - 1)],
      [0, open('ETH/USD', START - 1)],
    ]);

    emu.advance(2); // bars 800 and 801 close
    const early = (await ingestClosedCandles(db, kraken, ['BTC/USD'], 3600, open('BTC/USD', START + 1) + H - 1)).ingested;
    expect(early[0]).toMatchObject({ newCandles: 1, lastOpenTime: open('BTC/USD', START) }); // 801 not closed by `now` yet
    const later = (await ingestClosedCandles(db, kraken, ['BTC/USD'], 3600, far)).ingested;
    expect(later[0]).toMatchObject({ newCandles: 1, lastOpenTime: open('BTC/USD', START + 1) });
    const stored = await loadCandles(db, 'BTC/USD', 3600, { from: open('BTC/USD', START - 2) });
    expect(stored.map((c) => c.openTime)).toEqual([START - 2, START - 1, START, START + 1].map((i) => open('BTC/USD', i)));
    expect(stored.at(-1)).toMatchObject({ ...repo['BTC/USD']![START + 1], source: 'kraken', flags: [] });
  });

  it('a stored bar older than Kraken’s window: the hole is flagged on the first new bar and reported as truncated', async () => {
    const db = t.app.db;
    await upsertCandles(db, [{ ...repo['SOL/USD']![0]!, openTime: open('BTC/USD', 10) }], 'coingecko');
    const [r] = (await ingestClosedCandles(db, kraken, ['SOL/USD'], 3600, far)).ingested;
    expect(r).toMatchObject({ pair: 'SOL/USD', truncated: true, newCandles: 719 }); // Kraken's window, less the open bar
    const firstNew = (await loadCandles(db, 'SOL/USD', 3600, { from: open('BTC/USD', 11), limit: 10_000 }))[0]!;
    expect(firstNew.flags).toEqual([`gap_before:${(firstNew.openTime - open('BTC/USD', 10)) / H - 1}`]);
    expect(r!.issues).toContainEqual({ kind: 'gap', openTime: firstNew.openTime, missing: (firstNew.openTime - open('BTC/USD', 10)) / H - 1 });
  });
});

describe('one bad pair never stops the others', () => {
  const far = Date.UTC(2030, 0, 1);

  it('a pair Kraken does not list, or whose request fails, is reported; every other pair is ingested', async () => {
    const db = t.app.db;
    const ohlcBefore = emu.calls('OHLC').length;
    // FOO/USD: no Kraken name at all (its AssetPairs listing has none) → no OHLC request.
    // DOGE/USD: a known Kraken name this exchange does not list → Kraken's own error.
    const r = await ingestClosedCandles(db, kraken, ['DOGE/USD', 'ETH/USD', 'FOO/USD', 'XRP/USD'], 3600, far);
    expect(r.ingested.map((x) => x.pair)).toEqual(['ETH/USD', 'XRP/USD']);
    expect(r.ingested.every((x) => x.lastOpenTime !== null)).toBe(true);
    expect(r.failed).toEqual([
      { pair: 'DOGE/USD', unknown: false, error: expect.stringMatching(/EQuery:Unknown asset pair/) },
      { pair: 'FOO/USD', unknown: true, error: 'FOO/USD is not a USD spot pair Kraken lists (AssetPairs)' },
    ]);
    expect(emu.calls('OHLC').length - ohlcBefore).toBe(3); // DOGE, ETH, XRP: FOO never asked for
    expect(emu.calls('OHLC').map((c) => c.params.pair)).not.toContain('FOOUSD');

    emu.faults.add({ method: 'OHLC', kind: 'http', status: 502, count: 1 });
    const next = await ingestClosedCandles(db, kraken, ['ETH/USD', 'XRP/USD'], 3600, far);
    expect(next.failed).toEqual([{ pair: 'ETH/USD', unknown: false, error: expect.stringMatching(/HTTP 502/) }]);
    expect(next.ingested.map((x) => x.pair)).toEqual(['XRP/USD']);
  });

  it('usdMarkets() reads Kraken’s AssetPairs: the USD spot pairs it lists now', async () => {
    const client = new KrakenRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
    const pairsCalls = emu.calls('AssetPairs').length;
    const markets = await client.usdMarkets();
    expect(markets.map((m) => m.symbol)).toContain('LTC/USD');
    expect(markets.every((m) => m.quote === 'USD')).toBe(true);
    expect(emu.calls('AssetPairs').length).toBe(pairsCalls + 1);
  });
});

describe('backfill() from Kraken and CoinGecko', () => {
  it('kraken: the requested range within the 720-bar window', async () => {
    const rows = await backfill(t.app.db, { pairs: ['ETH/USD'], from: open('ETH/USD', 700), to: open('ETH/USD', 750), interval: 3600, source: { kind: 'kraken', client: kraken } });
    expect(rows[0]).toMatchObject({ pair: 'ETH/USD', fetched: 50, unchanged: 50, inserted: 0, truncated: false, first: open('ETH/USD', 700), last: open('ETH/USD', 749) });
  });

  it('coingecko: hourly bars over several windows land in the store with source coingecko', async () => {
    const clock = new VirtualClock(Date.UTC(2022, 0, 1));
    const client = new CoinGeckoClient({ baseUrl: cg.url, clock, sleep: async (ms) => clock.advance(ms) });
    const from = Date.UTC(2021, 9, 1);
    const to = from + 100 * 86_400_000; // two windows
    const progress: number[] = [];
    const rows = await backfill(t.app.db, { pairs: ['BTC/USD'], from, to, interval: 3600, source: { kind: 'coingecko', client }, onProgress: (p) => progress.push(p.fraction) });
    expect(progress).toEqual([0, 0.5, 1, 1]);
    const stored = await loadCandles(t.app.db, 'BTC/USD', 3600, { from, to });
    expect(stored.length).toBe(rows[0]!.inserted);
    expect(stored.length).toBeGreaterThan(2350); // 2 400 hours less the few without a following point
    expect(stored.every((c) => c.source === 'coingecko')).toBe(true);
    expect(rows[0]!.rejected).toBe(0);
  });
});
