/**
 * A local CoinGecko (v3) for tests: /coins/{id}/market_chart/range and /coins/{id}/ohlc served from the
 * repository's Kraken hourly CSVs, with CoinGecko's granularity rules, a 30-calls-per-rolling-minute limit
 * per API key (429 + Retry-After beyond it) and scripted 429s. Time comes from `now`, so a test on a
 * virtual clock sees the limit exactly.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Candle } from '../../lib/market/candle.ts';
import { readCandlesCsv } from '../../lib/market/csv.ts';

export interface FakeRequest {
  path: string;
  query: Record<string, string>;
  key: string | null;
  time: number;
  status: number;
}

export interface CoinGeckoFake {
  url: string;
  requests: FakeRequest[];
  /** The next `count` requests get 429 (with Retry-After when given). */
  inject429(count: number, retryAfterS?: number): void;
  close(): Promise<void>;
}

export interface CoinGeckoFakeOptions {
  now: () => number;
  /** Coin id → hourly candles (default: bitcoin, ethereum, solana from data/ohlcv). */
  candles?: Record<string, Candle[]>;
  /** Accepted demo keys; when set, a request without one of them gets 401. */
  keys?: string[];
  limitPerMinute?: number; // default 30
}

const H = 3_600_000;
const D = 86_400_000;
/** CoinGecko's timestamps are not on the hour; a fixed offset keeps the client honest about that. */
const JITTER_MS = 37_000;

let repo: Record<string, Candle[]> | undefined;
function repoCandles(): Record<string, Candle[]> {
  if (repo) return repo;
  const dir = new URL('../../data/ohlcv/', import.meta.url).pathname;
  repo = {
    bitcoin: readCandlesCsv(`${dir}kraken_BTCUSD_1h.csv`, 'BTC/USD'),
    ethereum: readCandlesCsv(`${dir}kraken_ETHUSD_1h.csv`, 'ETH/USD'),
    solana: readCandlesCsv(`${dir}kraken_SOLUSD_1h.csv`, 'SOL/USD'),
  };
  return repo;
}

/** USD volume over the 24 hours before each bar's open, as CoinGecko's total_volumes reports it. */
function rolling24hUsd(series: Candle[]): number[] {
  const out: number[] = [];
  let sum = 0;
  let j = 0;
  for (let i = 0; i < series.length; i++) {
    const c = series[i]!;
    sum += c.volume * c.close;
    while (series[j]!.openTime <= c.openTime - D) sum -= series[j]!.volume * series[j++]!.close;
    out.push(sum);
  }
  return out;
}

function aggregate(series: Candle[], widthMs: number): Candle[] {
  const out: Candle[] = [];
  for (const c of series) {
    const begin = Math.floor(c.openTime / widthMs) * widthMs;
    const cur = out[out.length - 1];
    if (cur && cur.openTime === begin) {
      cur.high = Math.max(cur.high, c.high);
      cur.low = Math.min(cur.low, c.low);
      cur.close = c.close;
    } else out.push({ ...c, openTime: begin, interval: widthMs / 1000 });
  }
  return out;
}

export async function startCoinGeckoFake(opts: CoinGeckoFakeOptions): Promise<CoinGeckoFake> {
  const data = opts.candles ?? repoCandles();
  const vols = new Map(Object.entries(data).map(([id, s]) => [id, rolling24hUsd(s)]));
  const limit = opts.limitPerMinute ?? 30;
  const accepted = new Map<string, number[]>();
  const requests: FakeRequest[] = [];
  const forced: Array<{ retryAfterS?: number }> = [];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const keyHeader = req.headers['x-cg-demo-api-key'];
    const key = typeof keyHeader === 'string' ? keyHeader : null;
    const now = opts.now();
    const rec: FakeRequest = { path: url.pathname, query: Object.fromEntries(url.searchParams), key, time: now, status: 0 };
    requests.push(rec);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
    const tooMany = (retryAfterS?: number) =>
      send(429, { status: { error_code: 429, error_message: "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans for higher rate limits." } }, retryAfterS === undefined ? {} : { 'retry-after': String(retryAfterS) });

    if (opts.keys && (!key || !opts.keys.includes(key))) return send(401, { status: { error_code: 10002, error_message: 'API Key Missing or invalid' } });
    const f = forced.shift();
    if (f) return tooMany(f.retryAfterS);
    const bucket = key ?? 'anonymous';
    const times = (accepted.get(bucket) ?? []).filter((t) => t > now - 60_000);
    accepted.set(bucket, times);
    if (times.length >= limit) return tooMany(Math.ceil((times[0]! + 60_000 - now) / 1000));
    times.push(now);

    const m = /^\/coins\/([a-z0-9-]+)\/(market_chart\/range|ohlc)$/.exec(url.pathname);
    if (!m) return send(404, { error: 'Not Found' });
    const series = data[m[1]!];
    if (!series) return send(404, { error: 'coin not found' });
    if (url.searchParams.get('vs_currency') !== 'usd') return send(400, { error: 'invalid vs_currency' });

    if (m[2] === 'market_chart/range') {
      const from = Number(url.searchParams.get('from')) * 1000;
      const to = Number(url.searchParams.get('to')) * 1000;
      if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) return send(400, { error: 'invalid from/to' });
      // The fake only has hourly data, so spans under a day are hourly here (CoinGecko: 5-minutely near now).
      const daily = to - from > 90 * D;
      const v = vols.get(m[1]!)!;
      const prices: Array<[number, number]> = [];
      const volumes: Array<[number, number]> = [];
      series.forEach((c, i) => {
        const t = daily ? c.openTime : c.openTime + JITTER_MS;
        if (t < from || t > to || (daily && c.openTime % D !== 0)) return;
        prices.push([t, c.open]);
        volumes.push([t, v[i]!]);
      });
      return send(200, { prices, market_caps: prices.map(([t, p]) => [t, p * 1e6]), total_volumes: volumes });
    }

    const daysRaw = url.searchParams.get('days');
    const days = daysRaw === 'max' ? Infinity : Number(daysRaw);
    if (!['1', '7', '14', '30', '90', '180', '365', 'max'].includes(daysRaw ?? '')) return send(400, { error: 'invalid days' });
    const width = days <= 2 ? H / 2 : days <= 30 ? 4 * H : 4 * D;
    const inRange = series.filter((c) => c.openTime + H <= now && c.openTime >= now - days * D);
    // 30-minute bars cannot come out of hourly data: each hour is split at its mid-price (a test stand-in).
    const base =
      width < H
        ? inRange.flatMap((c) => {
            const mid = (c.open + c.close) / 2;
            const half = H / 2 / 1000;
            return [
              { ...c, interval: half, close: mid, high: Math.max(c.open, mid, c.high), low: Math.min(c.open, mid, c.low) },
              { ...c, interval: half, openTime: c.openTime + H / 2, open: mid },
            ];
          })
        : aggregate(inRange, width);
    // Whole bars only, stamped with their close time as CoinGecko does.
    return send(200, base.filter((c) => c.openTime + width <= now).map((c) => [c.openTime + width, c.open, c.high, c.low, c.close]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    inject429: (count, retryAfterS) => {
      for (let i = 0; i < count; i++) forced.push(retryAfterS === undefined ? {} : { retryAfterS });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
