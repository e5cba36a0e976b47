import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KrakenApiError, KrakenRestClient, krakenPair } from '../../lib/market/kraken-rest.ts';
import { loadRepoCandles, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

const H = 3_600_000;
let emu: KrakenEmulator;
let client: KrakenRestClient;
const repo = loadRepoCandles();
const btc = repo['BTC/USD']!;

beforeAll(async () => {
  emu = await startKrakenEmulator({ startIndex: 800 });
  client = new KrakenRestClient({ baseUrl: emu.url, timeoutMs: 2000 });
});
afterAll(async () => {
  await emu?.close();
});

describe('Kraken REST OHLC client (against the emulator)', () => {
  it('asks by altname, reads the reply under the key and drops the still-open bar', async () => {
    const page = await client.ohlc('BTC/USD', 3600);
    const req = emu.calls('OHLC').at(-1)!;
    expect(req.params).toMatchObject({ pair: 'XBTUSD', interval: '60' });
    expect(page.candles).toHaveLength(719); // 720 served, the open one dropped
    const newest = page.candles.at(-1)!;
    expect(newest.openTime).toBe(btc[799]!.openTime); // the cursor's bar (800) is open
    expect(page.last).toBe(btc[799]!.openTime / 1000);
    expect(newest).toEqual({ ...btc[799], pair: 'BTC/USD', interval: 3600 });
    expect(page.candles.every((c, i, a) => i === 0 || c.openTime > a[i - 1]!.openTime)).toBe(true);
  });

  it('polls only the bars closed since a given one (since = last paging)', async () => {
    const page = await client.ohlc('ETH/USD', 3600);
    emu.advance(3);
    const got = await client.closedSince('ETH/USD', 3600, page.candles.at(-1)!.openTime);
    expect(got.truncated).toBe(false);
    expect(got.candles.map((c) => c.openTime)).toEqual([800, 801, 802].map((i) => repo['ETH/USD']![i]!.openTime));
    expect(got.candles[0]).toMatchObject({ pair: 'ETH/USD', close: repo['ETH/USD']![800]!.close });
    expect(emu.calls('OHLC').at(-1)!.params).toMatchObject({ pair: 'ETHUSD', since: String(page.last) });
    const again = await client.closedSince('ETH/USD', 3600, got.candles.at(-1)!.openTime);
    expect(again.candles).toEqual([]);
  });

  it('reports history older than the 720-bar window as truncated', async () => {
    const got = await client.closedSince('SOL/USD', 3600, btc[0]!.openTime);
    expect(got.truncated).toBe(true);
    expect(got.candles.length).toBe(719);
    const all = await client.closedSince('BTC/USD', 3600, null);
    expect(all).toMatchObject({ truncated: false });
    expect(all.candles.length).toBe(719);
  });

  it('serves other intervals from the same replay (4h bars)', async () => {
    const page = await client.ohlc('BTC/USD', 4 * 3600);
    expect(page.candles.length).toBeGreaterThan(100);
    expect(page.candles.every((c) => c.interval === 14400 && c.openTime % (4 * H) === 0)).toBe(true);
  });

  it('turns Kraken errors and HTTP failures into KrakenApiError, and refuses unknown pairs and intervals', async () => {
    emu.faults.add({ method: 'OHLC', kind: 'error', error: 'EService:Unavailable' });
    await expect(client.ohlc('BTC/USD', 3600)).rejects.toThrow(/EService:Unavailable/);
    emu.faults.add({ method: 'OHLC', kind: 'http', status: 502 });
    const err = await client.ohlc('BTC/USD', 3600).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KrakenApiError);
    expect((err as KrakenApiError).status).toBe(502);
    expect(() => krakenPair('FOO/USD')).toThrow(/no Kraken name/);
    await expect(client.ohlc('BTC/USD', 7200)).rejects.toThrow(/no 7200s OHLC interval/);
  });
});
