import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../lib/clock.ts';
import { KRAKEN_USD_ASSET_PAIRS_SNAPSHOT } from '../../../lib/exchange/usd-markets.ts';
import { untradableReason } from '../../../lib/exchange/universe.ts';
import { KrakenRestClient, KrakenUsdListing, MarketListingUnavailableError, UnknownPairError } from '../../../lib/market/kraken-rest.ts';

const H = 3_600_000;
const PEPE = { ...KRAKEN_USD_ASSET_PAIRS_SNAPSHOT.ADAUSD, altname: 'PEPEUSD', wsname: 'PEPE/USD', base: 'PEPE' };
const ASSET_PAIRS = { ...KRAKEN_USD_ASSET_PAIRS_SNAPSHOT, PEPEUSD: PEPE, XLTCZUSD: { ...KRAKEN_USD_ASSET_PAIRS_SNAPSHOT.XLTCZUSD, status: 'cancel_only' } };

/** A fetch that answers AssetPairs from the recorded snapshot (plus PEPE/USD) and OHLC for PEPEUSD; it counts calls. */
function fakeKraken(fail = { assetPairs: false }) {
  const calls: string[] = [];
  const fetchFn = (async (input: string | URL | Request) => {
    const url = new URL(String(input));
    calls.push(`${url.pathname}${url.search}`);
    if (url.pathname === '/0/public/AssetPairs') {
      if (fail.assetPairs) return new Response('bad gateway', { status: 502 });
      return Response.json({ error: [], result: ASSET_PAIRS });
    }
    if (url.pathname === '/0/public/OHLC' && url.searchParams.get('pair') === 'PEPEUSD') {
      const row = (t: number) => [t, '1.0', '1.1', '0.9', '1.05', '1.0', '100', 5];
      return Response.json({ error: [], result: { PEPEUSD: [row(0), row(3600), row(7200)], last: 3600 } });
    }
    return Response.json({ error: ['EQuery:Unknown asset pair'] });
  }) as typeof fetch;
  return { calls, fetchFn };
}

describe('KrakenRestClient names pairs outside its table from AssetPairs', () => {
  it('a listed pair gets its altname and key from the listing (fetched once); an unlisted one throws UnknownPairError without an OHLC request', async () => {
    const k = fakeKraken();
    const client = new KrakenRestClient({ baseUrl: 'http://kraken.test', fetch: k.fetchFn });
    const page = await client.ohlc('PEPE/USD', 3600);
    expect(page.candles.map((c) => [c.pair, c.openTime])).toEqual([['PEPE/USD', 0], ['PEPE/USD', 3_600_000]]);
    await expect(client.ohlc('FOO/USD', 3600)).rejects.toBeInstanceOf(UnknownPairError);
    expect(k.calls.filter((c) => c.startsWith('/0/public/AssetPairs'))).toHaveLength(1);
    expect(k.calls.filter((c) => c.startsWith('/0/public/OHLC'))).toEqual(['/0/public/OHLC?pair=PEPEUSD&interval=60']);
    // The table's pairs never need the listing.
    const k2 = fakeKraken();
    await new KrakenRestClient({ baseUrl: 'http://kraken.test', fetch: k2.fetchFn }).ohlc('BTC/USD', 3600).catch(() => undefined);
    expect(k2.calls).toEqual(['/0/public/OHLC?pair=XBTUSD&interval=60']);
  });
});

describe('KrakenUsdListing (the settings API universe)', () => {
  it('caches Kraken’s listing for its TTL of wall time and asks again after it', async () => {
    const k = fakeKraken();
    const clock = new VirtualClock(0);
    const listing = new KrakenUsdListing(new KrakenRestClient({ baseUrl: 'http://kraken.test', fetch: k.fetchFn }), clock);
    const [a, b] = await Promise.all([listing.markets(), listing.markets()]); // concurrent callers share one request
    expect(a).toBe(b);
    expect(a.map((m) => m.symbol)).toContain('PEPE/USD');
    clock.advance(H - 1);
    await listing.markets();
    expect(k.calls).toHaveLength(1);
    clock.advance(1);
    await listing.markets();
    expect(k.calls).toHaveLength(2);
  });

  it('an unreachable Kraken is an error naming it, never the older listing or the recorded snapshot', async () => {
    const fail = { assetPairs: false };
    const k = fakeKraken(fail);
    const clock = new VirtualClock(0);
    const listing = new KrakenUsdListing(new KrakenRestClient({ baseUrl: 'http://kraken.test', fetch: k.fetchFn }), clock);
    await listing.markets();
    fail.assetPairs = true;
    clock.advance(H);
    const err = await listing.markets().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MarketListingUnavailableError);
    expect((err as Error).message).toMatch(/AssetPairs at http:\/\/kraken\.test\) could not be read: Kraken AssetPairs: HTTP 502/);
    // Not cached: the next call asks again, and succeeds once Kraken answers.
    fail.assetPairs = false;
    expect((await listing.markets()).length).toBeGreaterThan(5);
  });
});

describe('untradableReason', () => {
  const markets = new KrakenUsdListing(new KrakenRestClient({ baseUrl: 'http://kraken.test', fetch: fakeKraken().fetchFn }), new VirtualClock(0));
  it.each([
    ['BTC/USD', null],
    ['PEPE/USD', null],
    ['USDC/USD', null],
    ['FOO/USD', 'Kraken does not list it as a USD spot pair'],
    ['DOGE/USD', 'Kraken does not list it as a USD spot pair'],
    ['LTC/USD', 'Kraken lists it as cancel_only: it takes no new positions'],
  ])('%s → %s', async (pair, reason) => {
    expect(untradableReason(pair, await markets.markets())).toBe(reason);
  });
});
