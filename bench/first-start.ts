/**
 * The first start as a new user meets it, embedded, on temporary AETHER_HOMEs:
 *
 *   healthz_s            `aether start` spawned → the first 200 from /function/api/healthz
 *   backfill_bars_per_s  bars the background history fill stored per second (Kraken emulator for the
 *                        newest 720 bars, the CoinGecko fake for older ones, both over the repository's
 *                        candles shifted into the near future with the runtime's wall clock)
 *   first_cycle_s        `aether demo --bars 2` spawned → its first replayed bar cycled by every account
 *
 * Targets: healthz_s ≤ 10, first_cycle_s ≤ 60 (exit 1 when missed).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplayMarket } from '../bin/replay-market.ts';
import { startCoinGeckoFake } from '../tests/helpers/coingecko-fake.ts';
import { Runtime, type LogLine } from './live/runtime.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'aether-bench-first-start-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 100) / 100;

function env(home: string, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DATABASE_|REDIS_URL|GATEWAY_URL|AETHER_)/.test(k)) out[k] = v;
  return { ...out, AETHER_HOME: home, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extra };
}

/** Polls until `fn` gives a value, or throws after `ms`. */
async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`bench first-start: ${what} not within ${ms / 1000} s`);
    await sleep(50);
  }
}

const healthy = async (url: string | null): Promise<true | undefined> => {
  if (!url) return undefined;
  const r = await fetch(`${url}/function/api/healthz`).catch(() => null);
  return r?.status === 200 ? true : undefined;
};

/** `aether start` against the emulator and the CoinGecko fake: seconds to a healthy /healthz, and the history fill's rate. */
async function start(): Promise<{ healthzS: number; barsPerS: number }> {
  const offsetFile = join(tmp, 'start-clock-offset-ms');
  const market = await startReplayMarket({ from: Date.parse('2021-10-04T00:00:00Z'), offsetFile });
  const fake = await startCoinGeckoFake({ now: () => market.clock.now(), candles: { bitcoin: market.candles['BTC/USD']!, ethereum: market.candles['ETH/USD']!, solana: market.candles['SOL/USD']! } });
  const home = join(tmp, 'start');
  mkdirSync(home);
  const lines: LogLine[] = [];
  const rt = new Runtime({ home, env: env(home, { KRAKEN_API_URL: market.emu.url, COINGECKO_API_URL: fake.url, AETHER_CLOCK_OFFSET_FILE: offsetFile }), logFile: join(tmp, 'start.log'), onLine: (l) => lines.push(l) });
  try {
    const t0 = performance.now();
    void rt.start(120_000).catch(() => undefined);
    await until('a healthy /healthz', () => healthy(rt.url), 120_000);
    const healthzS = (performance.now() - t0) / 1000;
    const done = await until('the history fill', () => lines.find((l) => String(l.json?.msg ?? '').startsWith('history: complete'))?.json ?? undefined, 300_000);
    return { healthzS, barsPerS: Number(done.bars) / Number(done.s) };
  } finally {
    await rt.stop(30_000);
    await fake.close();
    await market.close();
  }
}

/** `aether demo`: seconds from the spawn to the first replayed bar cycled by every account. */
async function demo(): Promise<number> {
  const home = join(tmp, 'demo-home');
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(REPO, 'bin/aether.js'), 'demo', '--bars', '2'], { cwd: REPO, env: env(home, {}), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let first: number | null = null;
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      if (first === null && /"msg":"REPLAY \S+ \(1\/2\): company done/.test(out)) first = performance.now();
    });
  }
  try {
    await until('the first replayed cycle', () => (first === null ? (child.exitCode === null ? undefined : Promise.reject(new Error(`aether demo exited ${child.exitCode}:\n${out.slice(-3000)}`))) : first), 300_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${out.slice(-3000)}`);
    });
    return (first! - t0) / 1000;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
  }
}

try {
  const s = await start();
  const firstCycleS = await demo();
  process.stdout.write(`bench first-start: healthz_s=${round(s.healthzS)} backfill_bars_per_s=${Math.round(s.barsPerS)} first_cycle_s=${round(firstCycleS)}\n`);
  const missed = [...(s.healthzS > 10 ? [`healthz_s ${round(s.healthzS)} > 10`] : []), ...(firstCycleS > 60 ? [`first_cycle_s ${round(firstCycleS)} > 60`] : [])];
  if (missed.length) {
    process.stdout.write(`bench first-start: target(s) missed: ${missed.join('; ')}\n`);
    process.exitCode = 1;
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
