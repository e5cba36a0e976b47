import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/clock.ts';
import { CoinGeckoClient, CoinGeckoError, HOURLY_WINDOW_MS, ohlcIntervalForDays, type OhlcDays } from '../../lib/market/coingecko.ts';
import { readCandlesCsv } from '../../lib/market/csv.ts';
import { startCoinGeckoFake, type CoinGeckoFake } from '../helpers/coingecko-fake.ts';

const H = 3_600_000;
const D = 86_400_000;
const T0 = Date.UTC(2022, 0, 1);
const btc = readCandlesCsv(new URL('../../data/ohlcv/kraken_BTCUSD_1h.csv', import.meta.url).pathname, 'BTC/USD');

let fake: CoinGeckoFake | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

/** A client and a fake sharing one virtual clock; the client's sleeps move it, so minutes pass instantly. */
async function setup(opts: { callsPerMinute?: number; maxRetries?: number; keys?: string[]; apiKey?: string } = {}) {
  const clock = new VirtualClock(T0);
  const sleeps: number[] = [];
  fake = await startCoinGeckoFake({ now: () => clock.now(), ...(opts.keys ? { keys: opts.keys } : {}) });
  const client = new CoinGeckoClient({
    baseUrl: fake.url,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
    ...(opts.callsPerMinute ? { callsPerMinute: opts.callsPerMinute } : {}),
    ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
  });
  return { clock, sleeps, client, fake };
}

const day = (i: number): [number, number] => [Date.UTC(2021, 3, 1) + i * D, Date.UTC(2021, 3, 1) + (i + 1) * D];

describe('CoinGecko client against the local fake', () => {
  it('keeps to 30 calls per rolling minute on its own: 75 calls, no 429, ≥ 2 minutes of (virtual) time', async () => {
    const { clock, client, fake: f } = await setup();
    for (let i = 0; i < 75; i++) await client.marketChartRange('bitcoin', ...day(i));
    expect(f.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(f.requests).toHaveLength(75);
    const times = f.requests.map((r) => r.time);
    for (const t of times) expect(times.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(30);
    expect(clock.now() - T0).toBeGreaterThanOrEqual(120_000);
    expect(clock.now() - T0).toBeLessThan(121_000); // and waits no longer than it must
    expect(client.rateLimited).toBe(0);
  });

  it('a client that overruns the limit gets 429 + Retry-After and waits it out before retrying', async () => {
    const { client, sleeps, fake: f } = await setup({ callsPerMinute: 1000 });
    for (let i = 0; i < 35; i++) await client.marketChartRange('bitcoin', ...day(i));
    const limited = f.requests.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(client.rateLimited).toBe(limited.length);
    expect(sleeps[0]).toBe(60_000); // Retry-After 60 s beats the 2 s first backoff
    expect(f.requests.filter((r) => r.status === 200)).toHaveLength(35);
  });

  it('backs off exponentially on injected 429s, honouring Retry-After when it is longer', async () => {
    const { client, sleeps, fake: f } = await setup();
    f.inject429(3);
    await client.marketChartRange('bitcoin', ...day(0));
    expect(sleeps).toEqual([2000, 4000, 8000]);
    sleeps.length = 0;
    f.inject429(2, 5);
    await client.marketChartRange('bitcoin', ...day(1));
    expect(sleeps).toEqual([5000, 5000]); // max(Retry-After 5 s, 2 s then 4 s)
    f.inject429(3);
    const limitedClient = new CoinGeckoClient({ baseUrl: f.url, maxRetries: 2, sleep: async () => undefined });
    const err = await limitedClient.marketChartRange('bitcoin', ...day(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoinGeckoError);
    expect((err as CoinGeckoError).status).toBe(429);
  });

  it('sends the demo key header; a wrong or missing key is an error, and limits are per key', async () => {
    const { client, fake: f } = await setup({ keys: ['demo-a', 'demo-b'], apiKey: 'demo-a' });
    await client.marketChartRange('bitcoin', ...day(0));
    expect(f.requests[0]!.key).toBe('demo-a');
    const keyless = new CoinGeckoClient({ baseUrl: f.url });
    await expect(keyless.marketChartRange('bitcoin', ...day(0))).rejects.toMatchObject({ name: 'CoinGeckoError', status: 401 });
    const clock = new VirtualClock(T0);
    const other = new CoinGeckoClient({ baseUrl: f.url, apiKey: 'demo-b', clock, sleep: async (ms) => clock.advance(ms), callsPerMinute: 1000, maxRetries: 0 });
    for (let i = 0; i < 30; i++) await other.marketChartRange('bitcoin', ...day(i)); // demo-a's call does not count
    await expect(other.marketChartRange('bitcoin', ...day(31))).rejects.toMatchObject({ status: 429 });
  });

  it('splits a long range into < 90-day windows so that every reply stays hourly', async () => {
    const { client, fake: f } = await setup();
    const from = Date.UTC(2021, 0, 1);
    const to = Date.UTC(2021, 6, 1); // 181 days
    const progress: Array<[number, number]> = [];
    const candles = await client.hourlyCandles('BTC/USD', from, to, (d, t) => progress.push([d, t]));
    expect(progress).toEqual([[1, 3], [2, 3], [3, 3]]);
    for (const r of f.requests) expect(Number(r.query.to) - Number(r.query.from)).toBeLessThan(90 * 86_400);
    expect(f.requests.map((r) => Number(r.query.from) * 1000)).toEqual([from, from + HOURLY_WINDOW_MS, from + 2 * HOURLY_WINDOW_MS]);
    const src = btc.filter((c) => c.openTime >= from && c.openTime <= to);
    const byTime = new Map(src.map((c, i) => [c.openTime, i]));
    // Every hour whose next hour exists becomes a bar: open = the hour's price, close = the next hour's.
    const expected = src.filter((c, i) => c.openTime < to && src[i + 1]?.openTime === c.openTime + H);
    expect(candles.map((c) => c.openTime)).toEqual(expected.map((c) => c.openTime));
    for (const c of candles.slice(0, 500)) {
      const i = byTime.get(c.openTime)!;
      expect(c).toMatchObject({ pair: 'BTC/USD', interval: 3600, open: src[i]!.open, close: src[i + 1]!.open });
      expect(c.high).toBe(Math.max(c.open, c.close));
      expect(c.volume).toBeGreaterThan(0);
    }
    // Volume: 24 h USD volume / 24 / price ≈ the day's average hourly base volume.
    const i = byTime.get(Date.UTC(2021, 2, 1))!;
    const dayAvg = src.slice(i - 24, i).reduce((s, c) => s + c.volume, 0) / 24;
    expect(candles.find((c) => c.openTime === Date.UTC(2021, 2, 1))!.volume / dayAvg).toBeGreaterThan(0.8);
    expect(candles.find((c) => c.openTime === Date.UTC(2021, 2, 1))!.volume / dayAvg).toBeLessThan(1.25);
  });

  it('one range over 90 days comes back daily — the reason for the windows', async () => {
    const { client } = await setup();
    const chart = await client.marketChartRange('bitcoin', Date.UTC(2021, 0, 1), Date.UTC(2021, 4, 1));
    const steps = new Set(chart.prices.slice(1).map(([t], i) => t - chart.prices[i]![0]));
    expect([...steps]).toEqual([D]);
  });

  it.each<[OhlcDays, number]>([
    [1, 1800],
    [7, 4 * 3600],
    [30, 4 * 3600],
    [90, 4 * 86_400],
    ['max', 4 * 86_400],
  ])('ohlc days=%s → %i-second bars, open time = CoinGecko close stamp − width', async (days, width) => {
    expect(ohlcIntervalForDays(days)).toBe(width);
    const { client, clock, fake: f } = await setup();
    clock.set(Date.UTC(2022, 6, 1));
    const bars = await client.ohlc('ETH/USD', days);
    expect(f.requests[0]!.path).toBe('/coins/ethereum/ohlc');
    expect(bars.length).toBeGreaterThan(5);
    for (const [i, b] of bars.entries()) {
      expect(b.interval).toBe(width);
      if (i > 0) expect(b.openTime - bars[i - 1]!.openTime).toBe(width * 1000);
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
    }
    expect(bars.at(-1)!.openTime + width * 1000).toBeLessThanOrEqual(Date.UTC(2022, 6, 1));
  });

  it('refuses unknown pairs', async () => {
    const { client } = await setup();
    await expect(client.hourlyCandles('FOO/USD', T0, T0 + D)).rejects.toThrow(/no CoinGecko id/);
  });
});
