import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSync } from 'otplib';
import type { Candle } from '../../lib/market/candle.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { runningEmbeddedUrl } from '../../lib/runtime/embedded-postgres.ts';
import { OffsetClock } from '../../bench/live/clock.ts';
import { BenchDb, type CycleRow } from '../../bench/live/db.ts';
import { Runtime } from '../../bench/live/runtime.ts';
import { loadRepoCandles, startKrakenEmulator, type KeyInit, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * The product as a director meets it, for the browser tests and `bench ui`: `aether start` as a child
 * process (embedded PostgreSQL in a temporary AETHER_HOME, the UI at `/`) against the Kraken emulator
 * run here, replaying the repository's candles. The replay starts at the 23:00 bar of 2021-10-07, so
 * the first cycle decides at midnight, the default daily decision, when the default signal enters BTC
 * (tests/integration/cycle-halted.test.ts). The runtime's wall clock is the system's plus an offset
 * (AETHER_CLOCK_OFFSET_FILE) that puts it a minute after the newest closed bar of the replay, shifted
 * by whole weeks into the near future (the offset never goes backwards).
 */
export const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
const REPLAY_FROM = Date.parse('2021-10-07T23:00:00Z');

export interface UiRuntime {
  /** http://127.0.0.1:<port> of the runtime: the UI at `/`, the API at `/function/api`. */
  url: string;
  onboardingToken: string;
  emu: KrakenEmulator;
  clock: OffsetClock;
  db: BenchDb;
  /** The runtime's output so far (for a failure's message). */
  output(): string;
  /**
   * A TOTP code of `secret` nobody has used yet: moves the runtime's wall clock to the start of the
   * next 30 s step (a code is good once) instead of waiting for it.
   */
  freshTotp(secret: string): string;
  /** The emulator moves on a bar and wall time to a minute after its close; returns the bar's open time. */
  nextBar(): Promise<number>;
  /** Resolves with every account's account_cycles row for `bar` once each has one. */
  cycleDone(bar: number, timeoutMs?: number): Promise<CycleRow[]>;
  /** One hourly cycle as cron runs it: the next bar, then `tick` queued; resolves once every account's cycle ended. */
  cycle(timeoutMs?: number): Promise<{ bar: number; rows: CycleRow[] }>;
  close(): Promise<void>;
}

export async function startUiRuntime(o: { keys?: KeyInit[] } = {}): Promise<UiRuntime> {
  const tmp = mkdtempSync(join(tmpdir(), 'aether-ui-'));
  const home = join(tmp, 'home');
  mkdirSync(home);
  const repo = loadRepoCandles();
  const timeline = repo['BTC/USD']!.map((c) => c.openTime);
  const startIndex = timeline.indexOf(REPLAY_FROM);
  const shift = Math.ceil((Date.now() + 2 * 24 * HOUR - REPLAY_FROM) / WEEK) * WEEK;
  const candles: Record<string, Candle[]> = Object.fromEntries(Object.entries(repo).map(([p, cs]) => [p, cs.map((c) => ({ ...c, openTime: c.openTime + shift }))]));
  const time = (i: number): number => timeline[i]! + shift;
  const clock = new OffsetClock(join(tmp, 'clock-offset-ms'));
  const emu = await startKrakenEmulator({ candles, startIndex, now: () => clock.now(), keys: o.keys ?? [] });
  clock.jumpTo(time(emu.exchange.cursor) + 60_000);

  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DATABASE_|REDIS_URL|GATEWAY_URL|AETHER_|KUBERNETES_|BENCH_)/.test(k)) env[k] = v;
  Object.assign(env, {
    AETHER_HOME: home,
    PORT: '0',
    HOST: '127.0.0.1',
    KRAKEN_API_URL: emu.url,
    COINGECKO_API_URL: 'http://127.0.0.1:9/api/v3', // no internet here: a history backfill fails at once
    LOG_LEVEL: 'warn',
    AETHER_CLOCK_OFFSET_FILE: join(tmp, 'clock-offset-ms'),
  });
  let out = '';
  const rt = new Runtime({ home, env, logFile: join(tmp, 'runtime.log'), onLine: (l) => void (out.length < 100_000 && (out += `${l.text}\n`)) });
  const db = new BenchDb(home);
  const close = async (): Promise<void> => {
    await db.close();
    if (rt.running) await rt.stop(30_000);
    await rt.reapDataDir();
    await emu.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  const nextBar = async (): Promise<number> => {
    emu.advance(1);
    clock.jumpTo(time(emu.exchange.cursor) + 60_000);
    await new Promise((r) => setTimeout(r, 60)); // the runtime re-reads the offset file at most every 20 ms
    return time(emu.exchange.cursor - 1);
  };
  const cycleDone = async (bar: number, timeoutMs = 90_000): Promise<CycleRow[]> => {
    const accounts = await db.accounts();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await db.cycleRows(bar, bar);
      if (accounts.length > 0 && accounts.every((a) => rows.some((r) => r.accountId === a.id))) return rows;
      if (Date.now() > deadline) throw new Error(`the cycle of ${new Date(bar).toISOString()} did not finish for every account within ${timeoutMs} ms:\n${out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  /** A queue client on the runtime's BullMQ (on its embedded PostgreSQL) for one call. */
  const withQueues = async (fn: (q: QueueClient) => Promise<void>): Promise<void> => {
    const queueUrl = runningEmbeddedUrl(home);
    if (!queueUrl) throw new Error('no running embedded PostgreSQL to reach the queues on');
    const q = await openQueueClient({ databaseUrl: queueUrl, onError: () => undefined });
    try {
      await fn(q);
    } finally {
      await q.close();
    }
  };
  try {
    const { url } = await rt.start(120_000);
    if (!rt.onboardingToken) throw new Error(`the first start printed no onboarding token:\n${out}`);
    // The replay moves only when a test says so: stack.yml's schedules run on the system clock (a tick
    // at any hh:01 would run a cycle in the middle of a story), so they are taken off.
    await withQueues(async (q) => {
      for (const name of ['tick', 'report', 'train'])
        if (!(await q.queue(name).removeJobScheduler(`cron-${name}`))) throw new Error(`the runtime registered no schedule cron-${name} to take off`);
    });
    return {
      url,
      onboardingToken: rt.onboardingToken,
      emu,
      clock,
      db,
      output: () => out,
      freshTotp(secret) {
        const step = Math.floor(clock.now() / 30_000) + 1;
        clock.jumpTo(step * 30_000 + 200);
        return generateSync({ secret, epoch: step * 30 });
      },
      nextBar,
      cycleDone,
      async cycle(timeoutMs) {
        const bar = await nextBar();
        await withQueues((q) => q.enqueue('tick', { scheduledAt: bar + HOUR + 60_000 }, { jobId: `tick-ui-${bar}` }));
        return { bar, rows: await cycleDone(bar, timeoutMs) };
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
