import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import type { MarketSpec } from '../exchange/types.ts';
import { marketsFromAssetPairs } from '../exchange/universe.ts';
import { closeTime, type Candle } from './candle.ts';
import { fetchFrom } from './network-error.ts';
import { latestCandle } from './store.ts';

/**
 * Kraken's names for the unified pairs. REST accepts the altname and answers under the key; WebSocket v2
 * uses the unified symbol itself ("BTC/USD"). A pair outside this table is named from Kraken's own
 * AssetPairs listing (`KrakenRestClient.usdMarkets`), so every pair Kraken lists can be ingested.
 */
export const KRAKEN_PAIRS: Readonly<Record<string, { altname: string; key: string }>> = {
  'BTC/USD': { altname: 'XBTUSD', key: 'XXBTZUSD' },
  'ETH/USD': { altname: 'ETHUSD', key: 'XETHZUSD' },
  'SOL/USD': { altname: 'SOLUSD', key: 'SOLUSD' },
  'ADA/USD': { altname: 'ADAUSD', key: 'ADAUSD' },
  'XRP/USD': { altname: 'XRPUSD', key: 'XXRPZUSD' },
  'LTC/USD': { altname: 'LTCUSD', key: 'XLTCZUSD' },
  'DOGE/USD': { altname: 'XDGUSD', key: 'XDGUSD' },
  'DOT/USD': { altname: 'DOTUSD', key: 'DOTUSD' },
  'LINK/USD': { altname: 'LINKUSD', key: 'LINKUSD' },
  'AVAX/USD': { altname: 'AVAXUSD', key: 'AVAXUSD' },
  'USDC/USD': { altname: 'USDCUSD', key: 'USDCUSD' },
  'USDT/USD': { altname: 'USDTUSD', key: 'USDTZUSD' },
};

/** Kraken OHLC intervals, in minutes. */
export const KRAKEN_INTERVALS_MIN = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600] as const;

/** Kraken's reply holds only the newest 720 bars (the last one still open), whatever `since` says. */
export const KRAKEN_OHLC_CAP = 720;

export function krakenPair(pair: string): { altname: string; key: string } {
  const p = KRAKEN_PAIRS[pair];
  if (!p) throw new Error(`no Kraken name known for ${pair} (known: ${Object.keys(KRAKEN_PAIRS).join(', ')})`);
  return p;
}

export function krakenIntervalMinutes(intervalS: number): number {
  const m = intervalS / 60;
  if (!(KRAKEN_INTERVALS_MIN as readonly number[]).includes(m)) throw new Error(`Kraken has no ${intervalS}s OHLC interval (minutes: ${KRAKEN_INTERVALS_MIN.join(', ')})`);
  return m;
}

export class KrakenApiError extends Error {
  override name = 'KrakenApiError';
  constructor(
    message: string,
    readonly errors: string[],
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A pair Kraken does not list as a USD spot market: asking for its candles cannot succeed. */
export class UnknownPairError extends Error {
  override name = 'UnknownPairError';
  constructor(readonly pair: string) {
    super(`${pair} is not a USD spot pair Kraken lists (AssetPairs)`);
  }
}

// [time s, open, high, low, close, vwap, volume, count]; prices are strings to keep their decimals.
const row = z.tuple([z.number(), z.string(), z.string(), z.string(), z.string(), z.string(), z.string(), z.number()]);
const envelope = z.object({ error: z.array(z.string()), result: z.record(z.string(), z.unknown()).optional() });
const ohlcResult = z.record(z.string(), z.unknown()).and(z.object({ last: z.number() }));

export interface OhlcPage {
  /** Closed bars only, ascending. */
  candles: Candle[];
  /** Kraken's `last`: the open time (s) of the newest committed bar, the `since` of the next poll. */
  last: number;
}

export interface ClosedSince {
  candles: Candle[];
  /** History between `after` and the first returned bar lies outside Kraken's 720-bar window (use CoinGecko). */
  truncated: boolean;
}

/** What the live feed and the ingest step need from a REST source of closed candles. */
export interface ClosedCandleSource {
  /** Closed bars with open time > `after` (all available when null), ascending. */
  closedSince(pair: string, interval: number, after: number | null): Promise<ClosedSince>;
}

export interface KrakenRestOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/** Kraken's public OHLC and AssetPairs endpoints over fetch. */
export class KrakenRestClient implements ClosedCandleSource {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  /** This client's AssetPairs listing, fetched once, only when a pair outside KRAKEN_PAIRS needs naming. */
  private listing: Promise<MarketSpec[]> | null = null;

  constructor(opts: KrakenRestOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** The base URL this client asks (for messages that must say which dependency failed). */
  get url(): string {
    return this.baseUrl;
  }

  /** `GET /0/public/<method>`: the `result` of Kraken's envelope; HTTP and Kraken errors throw KrakenApiError. */
  private async publicGet(method: string, query: URLSearchParams | null, what: string): Promise<unknown> {
    const url = `${this.baseUrl}/0/public/${method}${query === null ? '' : `?${query}`}`;
    const res = await fetchFrom(this.fetchFn, url, { signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw new KrakenApiError(`Kraken ${what}: HTTP ${res.status} ${text.slice(0, 200)}`, [], res.status);
    const body = envelope.parse(JSON.parse(text));
    if (body.error.length > 0) throw new KrakenApiError(`Kraken ${what}: ${body.error.join(', ')}`, body.error, res.status);
    return body.result;
  }

  /** Kraken's USD spot markets now (`GET /0/public/AssetPairs`, parsed and filtered like the recorded snapshot). */
  async usdMarkets(): Promise<MarketSpec[]> {
    return marketsFromAssetPairs(await this.publicGet('AssetPairs', null, 'AssetPairs'));
  }

  /** REST names of `pair`: the table above, else Kraken's listing; a pair Kraken does not list throws UnknownPairError. */
  private async names(pair: string): Promise<{ altname: string; key: string }> {
    const known = KRAKEN_PAIRS[pair];
    if (known) return known;
    this.listing ??= this.usdMarkets().catch((err: unknown) => {
      this.listing = null; // a failed listing is not remembered: the next pair asks again
      throw err;
    });
    const spec = (await this.listing).find((m) => m.symbol === pair);
    if (spec === undefined) throw new UnknownPairError(pair);
    return { altname: spec.altname, key: spec.krakenPair };
  }

  /** One OHLC call; the still-open last bar is dropped. `since` is Kraken's (seconds, exclusive). */
  async ohlc(pair: string, interval: number, since?: number): Promise<OhlcPage> {
    const minutes = krakenIntervalMinutes(interval);
    const { altname, key } = await this.names(pair);
    const q = new URLSearchParams({ pair: altname, interval: String(minutes) });
    if (since !== undefined) q.set('since', String(Math.floor(since)));
    const result = ohlcResult.parse(await this.publicGet('OHLC', q, `OHLC ${pair}`));
    const rowsRaw = result[key] ?? result[altname];
    if (rowsRaw === undefined) throw new KrakenApiError(`Kraken OHLC ${pair}: reply has no ${key} entry (keys: ${Object.keys(result).join(', ')})`, []);
    const rows = z.array(row).parse(rowsRaw);
    const last = result.last;
    // The last row is the open bar; `last` names the newest committed one, so keep rows up to it.
    const closed = rows.slice(0, -1).filter((r) => r[0] <= last && (since === undefined || r[0] > since));
    return {
      last,
      candles: closed.map((r) => ({
        pair,
        interval,
        openTime: r[0] * 1000,
        open: Number(r[1]),
        high: Number(r[2]),
        low: Number(r[3]),
        close: Number(r[4]),
        volume: Number(r[6]),
      })),
    };
  }

  /**
   * Closed bars after `after` (open time, ms). Pages with `since = last` until Kraken has nothing newer;
   * Kraken itself never goes further back than its 720-bar window, which `truncated` reports.
   */
  async closedSince(pair: string, interval: number, after: number | null): Promise<ClosedSince> {
    const out: Candle[] = [];
    let since = after === null ? undefined : Math.floor(after / 1000);
    for (let page = 0; page < 20; page++) {
      const { candles, last } = await this.ohlc(pair, interval, since);
      const fresh = candles.filter((c) => (out.length ? c.openTime > out[out.length - 1]!.openTime : after === null || c.openTime > after));
      out.push(...fresh);
      // Kraken answers up to `last` in one go; another page only when a server stopped short of it.
      if (fresh.length === 0 || out[out.length - 1]!.openTime / 1000 >= last || since === last) break;
      since = last;
    }
    const first = out[0];
    const truncated = after !== null && first !== undefined && first.openTime > after + interval * 1000;
    return { candles: out, truncated };
  }
}

/**
 * Kraken's USD-spot universe as the settings API checks pairs against it: the live AssetPairs
 * listing, cached for `ttlMs` of wall time (markets are listed and delisted rarely; one call an hour
 * per process is nothing against Kraken's limits). Concurrent callers share one request. A failed
 * refresh is not cached and is never papered over with an older listing or the recorded snapshot:
 * the caller hears that Kraken could not be asked (MarketListingUnavailableError) and refuses to
 * decide, because a stale or recorded list can accept a pair Kraken has delisted since (or refuse one
 * it has listed). The recorded snapshot (lib/exchange/usd-markets.ts) stays what simulations and
 * backtests trade on, not a stand-in for Kraken.
 */
export class KrakenUsdListing {
  private cached: { at: number; markets: readonly MarketSpec[] } | null = null;
  private inflight: Promise<readonly MarketSpec[]> | null = null;

  constructor(
    private readonly source: Pick<KrakenRestClient, 'usdMarkets' | 'url'>,
    private readonly clock: Clock, // wall time: a TTL, never the market clock
    private readonly ttlMs = 3_600_000,
  ) {}

  async markets(): Promise<readonly MarketSpec[]> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < this.ttlMs) return this.cached.markets;
    this.inflight ??= this.source
      .usdMarkets()
      .then((markets) => {
        this.cached = { at: now, markets: Object.freeze(markets) };
        return this.cached.markets;
      })
      .catch((err: unknown) => {
        throw new MarketListingUnavailableError(this.source.url, err);
      })
      .finally(() => {
        this.inflight = null;
      });
    return this.inflight;
  }
}

export class MarketListingUnavailableError extends Error {
  override name = 'MarketListingUnavailableError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Kraken's market listing (AssetPairs at ${url}) could not be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * The newest closed bars since the stored latest one (everything Kraken has when nothing is stored),
 * without bars that are not closed yet by `now`.
 */
export async function pollClosedCandles(db: Db, source: ClosedCandleSource, pair: string, interval: number, now: number): Promise<ClosedSince & { previous: Candle | null }> {
  const previous = await latestCandle(db, pair, interval);
  const got = await source.closedSince(pair, interval, previous?.openTime ?? null);
  return { ...got, candles: got.candles.filter((c) => closeTime(c) <= now), previous };
}
