import { z } from 'zod';
import { systemClock, type Clock } from '../clock.ts';
import { HOUR_S, type Candle } from './candle.ts';
import { fetchFrom } from './network-error.ts';

/** CoinGecko coin ids of the unified pairs (all quoted in USD). */
export const COINGECKO_IDS: Readonly<Record<string, string>> = {
  'BTC/USD': 'bitcoin',
  'ETH/USD': 'ethereum',
  'SOL/USD': 'solana',
  'ADA/USD': 'cardano',
  'XRP/USD': 'ripple',
  'LTC/USD': 'litecoin',
  'DOGE/USD': 'dogecoin',
  'DOT/USD': 'polkadot',
  'LINK/USD': 'chainlink',
  'AVAX/USD': 'avalanche-2',
  'USDC/USD': 'usd-coin',
  'USDT/USD': 'tether',
};

export function coingeckoId(pair: string): string {
  const id = COINGECKO_IDS[pair];
  if (!id) throw new Error(`no CoinGecko id known for ${pair} (known: ${Object.keys(COINGECKO_IDS).join(', ')})`);
  return id;
}

const DAY_MS = 86_400_000;
const HOUR_MS = HOUR_S * 1000;

/**
 * market_chart/range picks its own granularity from the span: within 1 day of now 5-minutely, 1–90 days
 * hourly, beyond 90 days daily (00:00 UTC). Hourly history therefore comes in windows of 89 days of bars
 * plus the one-hour look-ahead that closes the last bar — always under 90 days.
 */
export const HOURLY_WINDOW_MS = 89 * DAY_MS;

/** /coins/{id}/ohlc accepts only these `days`. */
export const OHLC_DAYS = [1, 7, 14, 30, 90, 180, 365, 'max'] as const;
export type OhlcDays = (typeof OHLC_DAYS)[number];

/** The bar width /ohlc answers with for `days` (it cannot be chosen): 1–2 days 30 min, 3–30 days 4 h, 31+ 4 days. */
export function ohlcIntervalForDays(days: OhlcDays): number {
  if (days === 'max' || days > 30) return 4 * 86_400;
  if (days > 2) return 4 * HOUR_S;
  return 1800;
}

export class CoinGeckoError extends Error {
  override name = 'CoinGeckoError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** At most `limit` calls in any rolling `windowMs` (CoinGecko's demo plan allows 30 per minute). */
export class RollingLimiter {
  private readonly calls: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  /** Waits until one more call fits, then books it. */
  async acquire(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.calls.length && this.calls[0]! <= now - this.windowMs) this.calls.shift();
      if (this.calls.length < this.limit) {
        this.calls.push(now);
        return;
      }
      await this.sleep(this.calls[0]! + this.windowMs - now);
    }
  }
}

const point = z.tuple([z.number(), z.number()]);
const marketChart = z.object({ prices: z.array(point), total_volumes: z.array(point) });
const ohlcRows = z.array(z.tuple([z.number(), z.number(), z.number(), z.number(), z.number()]));

export interface MarketChart {
  prices: Array<[number, number]>;
  totalVolumes: Array<[number, number]>;
}

export interface CoinGeckoOptions {
  baseUrl: string;
  /** Demo key, sent as x-cg-demo-api-key. */
  apiKey?: string;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  fetch?: typeof fetch;
  callsPerMinute?: number; // default 30
  maxRetries?: number; // 429 retries per call, default 5
  backoffMs?: number; // first 429 backoff, default 2000, doubling
  timeoutMs?: number;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  if (/^\d+(\.\d+)?$/.test(header.trim())) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

export class CoinGeckoClient {
  private readonly baseUrl: string;
  private readonly limiter: RollingLimiter;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly fetchFn: typeof fetch;
  /** 429s answered so far (each one waited out). */
  rateLimited = 0;

  constructor(private readonly opts: CoinGeckoOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.clock = opts.clock ?? systemClock;
    this.sleep = opts.sleep ?? realSleep;
    this.fetchFn = opts.fetch ?? fetch;
    this.limiter = new RollingLimiter(opts.callsPerMinute ?? 30, 60_000, this.clock, this.sleep);
  }

  private async get(path: string, query: Record<string, string>): Promise<unknown> {
    const url = `${this.baseUrl}${path}?${new URLSearchParams(query)}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.apiKey) headers['x-cg-demo-api-key'] = this.opts.apiKey;
    const maxRetries = this.opts.maxRetries ?? 5;
    for (let attempt = 0; ; attempt++) {
      await this.limiter.acquire();
      const res = await fetchFrom(this.fetchFn, url, { headers, signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000) });
      const text = await res.text();
      if (res.status === 429) {
        this.rateLimited++;
        if (attempt >= maxRetries) throw new CoinGeckoError(`CoinGecko ${path}: still rate limited after ${maxRetries} retries`, 429);
        const backoff = (this.opts.backoffMs ?? 2000) * 2 ** attempt;
        await this.sleep(Math.max(backoff, retryAfterMs(res.headers.get('retry-after'), this.clock.now()) ?? 0));
        continue;
      }
      if (!res.ok) throw new CoinGeckoError(`CoinGecko ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, res.status);
      return JSON.parse(text);
    }
  }

  /** Raw /coins/{id}/market_chart/range (USD); from/to in epoch ms. */
  async marketChartRange(id: string, from: number, to: number): Promise<MarketChart> {
    const body = marketChart.parse(
      await this.get(`/coins/${encodeURIComponent(id)}/market_chart/range`, { vs_currency: 'usd', from: String(Math.floor(from / 1000)), to: String(Math.ceil(to / 1000)) }),
    );
    return { prices: body.prices, totalVolumes: body.total_volumes };
  }

  /**
   * /coins/{id}/ohlc as candles. CoinGecko stamps each bar with its CLOSE time; the bar width follows
   * ohlcIntervalForDays. It carries no volume, so volume is 0 (use market_chart for volume).
   */
  async ohlc(pair: string, days: OhlcDays): Promise<Candle[]> {
    const interval = ohlcIntervalForDays(days);
    const rows = ohlcRows.parse(await this.get(`/coins/${encodeURIComponent(coingeckoId(pair))}/ohlc`, { vs_currency: 'usd', days: String(days) }));
    return rows.map(([t, open, high, low, close]) => ({ pair, interval, openTime: t - interval * 1000, open, high, low, close, volume: 0 }));
  }

  /**
   * Hourly candles for [from, to) built from market_chart/range prices, in windows short enough to stay
   * hourly (HOURLY_WINDOW_MS). See candlesFromChart for how bars and volumes are made.
   */
  async hourlyCandles(pair: string, from: number, to: number, onWindow?: (done: number, total: number) => void): Promise<Candle[]> {
    const id = coingeckoId(pair);
    const start = Math.floor(from / HOUR_MS) * HOUR_MS;
    const windows: Array<[number, number]> = [];
    for (let s = start; s < to; s += HOURLY_WINDOW_MS) windows.push([s, Math.min(s + HOURLY_WINDOW_MS, to)]);
    const prices = new Map<number, number>();
    const volumes = new Map<number, number>();
    for (let i = 0; i < windows.length; i++) {
      const [s, e] = windows[i]!;
      const chart = await this.marketChartRange(id, s, e + HOUR_MS); // one more point closes the last bar
      assertSubDaily(chart.prices, pair, s, e + HOUR_MS);
      for (const [t, p] of chart.prices) prices.set(t, p);
      for (const [t, v] of chart.totalVolumes) volumes.set(t, v);
      onWindow?.(i + 1, windows.length);
    }
    return candlesFromChart(pair, [...prices].sort((a, b) => a[0] - b[0]), volumes).filter((c) => c.openTime >= from && c.openTime < to);
  }
}

/** Daily points in a reply we asked to be hourly mean the window logic and CoinGecko disagree: stop, don't guess. */
function assertSubDaily(prices: Array<[number, number]>, pair: string, from: number, to: number): void {
  if (prices.length < 3) return;
  const steps = prices.slice(1).map(([t], i) => t - prices[i]![0]).sort((a, b) => a - b);
  const median = steps[steps.length >> 1]!;
  if (median > 2 * HOUR_MS) {
    throw new CoinGeckoError(`CoinGecko ${pair} ${new Date(from).toISOString()}..${new Date(to).toISOString()}: got ${Math.round(median / HOUR_MS)}h points, expected hourly`, 200);
  }
}

/**
 * Hourly bars from price points (hourly or finer, unaligned timestamps). Bar H opens at the first point
 * inside [H, H+1h) and closes at the first point of the next hour; high/low are the extremes of the
 * points in between. An hour without a following point cannot be closed and is left out (a gap).
 *
 * Volume: total_volumes is CoinGecko's rolling 24-hour volume in USD across all exchanges. A bar's
 * volume is approximated as (24-hour USD volume at its open) / 24 / (mid of open and close), i.e. in
 * base units like Kraken's — an estimate, not the bar's own traded volume.
 */
export function candlesFromChart(pair: string, prices: Array<[number, number]>, volumes: ReadonlyMap<number, number>): Candle[] {
  const buckets = new Map<number, Array<[number, number]>>();
  for (const p of prices) {
    const h = Math.floor(p[0] / HOUR_MS) * HOUR_MS;
    let b = buckets.get(h);
    if (!b) buckets.set(h, (b = []));
    b.push(p);
  }
  const out: Candle[] = [];
  for (const [h, pts] of buckets) {
    const next = buckets.get(h + HOUR_MS);
    if (!next) continue;
    const open = pts[0]![1];
    const close = next[0]![1];
    const all = [...pts.map((p) => p[1]), close];
    const vol24 = volumes.get(pts[0]![0]) ?? 0;
    out.push({ pair, interval: HOUR_S, openTime: h, open, high: Math.max(...all), low: Math.min(...all), close, volume: vol24 / 24 / ((open + close) / 2) });
  }
  return out.sort((a, b) => a.openTime - b.openTime);
}
