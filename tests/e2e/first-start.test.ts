import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../bench/live/runtime.ts';
import { freePort } from '../../lib/runtime/embedded-postgres.ts';
import { startReplayMarket, type ReplayMarket } from '../../bin/replay-market.ts';
import { startCoinGeckoFake, type CoinGeckoFake } from '../helpers/coingecko-fake.ts';

/**
 * `aether start` on a fresh AETHER_HOME as a new user runs it, with "the internet" being the Kraken
 * emulator and a CoinGecko fake over the repository's candles (shifted into the near future, the
 * runtime's wall clock with them): the history is filled in the background with progress in the log
 * and /healthz, then one model is trained. Offline, it says so once, names the host and the cause,
 * and keeps serving.
 */
const tmp = mkdtempSync(join(tmpdir(), 'aether-first-start-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

function env(home: string, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !['DATABASE_URL', 'DATABASE_DRIVER', 'REDIS_URL', 'GATEWAY_URL', 'AETHER_MASTER_KEY', 'AETHER_JOB_KEY', 'AETHER_MIGRATE_DATABASE_URL', 'AETHER_CLOCK_OFFSET_FILE'].includes(k)) out[k] = v;
  return { ...out, AETHER_HOME: home, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, output: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s; runtime output:\n${output().slice(-6000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A started runtime with its output (JSON lines parsed) and a stop registered for afterAll. */
async function runtime(name: string, extra: Record<string, string>) {
  const home = join(tmp, name);
  mkdirSync(home);
  const lines: Array<{ text: string; json: Record<string, unknown> | null }> = [];
  const rt = new Runtime({ home, env: env(home, extra), logFile: join(tmp, `${name}.log`), onLine: (l) => lines.push(l) });
  cleanups.push(async () => {
    if (rt.running) await rt.stop(30_000);
    await rt.reapDataDir();
  });
  const started = await rt.start(120_000);
  const output = () => lines.map((l) => l.text).join('\n');
  const health = async () => (await (await fetch(`${started.url}/function/api/healthz`)).json()) as Record<string, unknown> & { history?: Record<string, unknown>; marketData: Record<string, unknown> };
  return { rt, url: started.url, lines, output, health, msgs: (re: RegExp) => lines.filter((l) => re.test(String(l.json?.msg ?? ''))) };
}

describe('aether start: history on the first start', () => {
  it('fills the traded pairs\' history from Kraken (recent) and CoinGecko (older) with progress in the log and /healthz, then trains once', async () => {
    const market: ReplayMarket = await startReplayMarket({ from: Date.parse('2021-03-01T00:00:00Z'), offsetFile: join(tmp, 'clock-offset-ms') });
    cleanups.push(() => market.close());
    const fake: CoinGeckoFake = await startCoinGeckoFake({
      now: () => market.clock.now(),
      candles: { bitcoin: market.candles['BTC/USD']!, ethereum: market.candles['ETH/USD']!, solana: market.candles['SOL/USD']! },
    });
    cleanups.push(() => fake.close());
    const r = await runtime('online', { KRAKEN_API_URL: market.emu.url, COINGECKO_API_URL: fake.url, AETHER_CLOCK_OFFSET_FILE: join(tmp, 'clock-offset-ms') });

    const done = await until('history complete', () => r.msgs(/^history: complete/)[0], 90_000, r.output);
    expect(done.json).toMatchObject({ pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'] });
    // Progress: one line per request, the share done rising to 100 %.
    const progress = r.msgs(/^history: \d+% /).map((l) => l.json!);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toMatchObject({ done: '100%' });
    expect(progress.some((p) => p.source === new URL(market.emu.url).host)).toBe(true);
    expect(progress.some((p) => p.source === new URL(fake.url).host && Number(p.bars) > 500)).toBe(true);
    // Kraken's OHLC for the newest bars, CoinGecko's hourly market_chart/range for older ones (each under 90 days: hourly).
    expect(market.emu.calls('OHLC').length).toBeGreaterThanOrEqual(3);
    const ranges = fake.requests.filter((q) => q.path.endsWith('/market_chart/range'));
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    expect(ranges.every((q) => Number(q.query.to) - Number(q.query.from) < 90 * 86_400)).toBe(true);

    const h = await r.health();
    expect(h).toMatchObject({ status: 'ok', replay: true, marketData: { state: 'fresh' } });
    expect(h.history).toMatchObject({ state: 'done', done: 1, pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'], source: 'live' });
    expect(Number(h.history!.bars)).toBeGreaterThan(2000);

    // Then the train job, once.
    expect(r.msgs(/^history: training queued/)).toHaveLength(1);
    await until('a training run', () => r.msgs(/^training run$/)[0], 120_000, r.output);
    expect(r.msgs(/^training run$/)).toHaveLength(1);
    const stop = await r.rt.stop(30_000);
    expect(stop).toMatchObject({ clean: true, code: 0 });
  }, 240_000);

  it('offline: says once which host it cannot reach and why, keeps serving healthy, and keeps retrying', async () => {
    // A port nothing listens on: Kraken and CoinGecko refuse the connection.
    const closed = `127.0.0.1:${await freePort()}`;
    const r = await runtime('offline', { KRAKEN_API_URL: `http://${closed}`, COINGECKO_API_URL: `http://${closed}/api/v3` });
    const warned = await until('the offline warning', () => r.msgs(/^history: cannot reach/)[0], 30_000, r.output);
    expect(warned.json).toMatchObject({ level: 40, host: closed, cause: expect.stringMatching(/ECONNREFUSED/) });
    expect(String(warned.json!.msg)).toMatch(/retries with backoff/);
    const h = await r.health();
    expect(h).toMatchObject({ status: 'ok', database: 'ok', queue: 'ok', replay: false, marketData: { state: 'none' } });
    expect(h.history).toMatchObject({ state: 'offline', error: expect.stringContaining(`cannot reach ${closed}`), retryAt: expect.any(String) });
    await new Promise((res) => setTimeout(res, 3000));
    expect(r.msgs(/cannot reach/)).toHaveLength(1); // said once, not once per retry
    expect(r.lines.filter((l) => Number(l.json?.level) >= 50)).toEqual([]);
    expect(r.rt.running).toBe(true);
    const stop = await r.rt.stop(30_000);
    expect(stop).toMatchObject({ clean: true, code: 0 });
  }, 120_000);
});
