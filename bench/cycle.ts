/**
 * One trading cycle through the queues, as the embedded runtime runs it: a `score` job, which enqueues
 * one `order` job per account on the one `order` queue; the dispatcher (startDispatcher) invokes
 * `order-<account>` of each job in-process through the embedded gateway (createGateway: order functions
 * built on first use), on PostgreSQL with the persisted SimBroker. The hedge is a phase of the order
 * job (no hedge jobs). Two sizes: 3 accounts × 3 pairs and 100 accounts × 10 pairs.
 *
 * Candles: the repository's real Kraken 1h BTC/ETH/SOL; the other USD pairs (the repository has no
 * data for them) are those series rescaled to each pair's price level, USDC/USD flat at its peg —
 * inserted into the store as `tick` would. One bar runs first as warm-up (JIT, connection pools,
 * order apps, first positions); the figure is the next bar, from the `score` enqueue to the last
 * order job's `completed` event. The wall clock is the system's plus an offset that puts "now" just
 * after each bar's close, as live (order jobs act only on the newest closed bar).
 *
 * Services: PostgreSQL from TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres,
 * else an embedded PostgreSQL (bench/support.ts); a fresh database per size, dropped at the end.
 * Queues: BullMQ on Redis when REDIS_URL is set, else BullMQ on PostgreSQL (the runtime's choice), in
 * a namespace of their own (removed at the end). BENCH_ORDER_CONCURRENCY overrides the dispatcher's
 * order-queue concurrency (default: the runtime's). BENCH_CPU_PROFILE=<file> writes a CPU profile
 * (.cpuprofile: Chrome DevTools, speedscope) of the large case's measured cycle only.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import type { Job, Worker } from 'bullmq';
import pg from 'pg';
import { createAccount, type Account } from '../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../lib/accounts/settings.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { openDatabase, type Database } from '../lib/db/client.ts';
import { withAccount } from '../lib/db/scope.ts';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { upsertCandles } from '../lib/market/store.ts';
import { openQueueClient, type QueueClient } from '../lib/queue/client.ts';
import { DEFAULT_CONCURRENCY, inProcessInvoker, startDispatcher } from '../lib/queue/dispatcher.ts';
import { jobId } from '../lib/queue/jobs.ts';
import { createGateway } from '../bin/gateway.ts';
import { testContext } from '../tests/helpers/context.ts';
import { withFreshDatabase } from './support.ts';

const HOUR = 3_600_000;
const WARMUP_BARS = 420;
const FIRST_BAR = Date.parse('2022-05-05T00:00:00Z'); // warm-up cycle; the measured one is the next bar
const TIMEOUT_MS = 120_000;
const LARGE_ACCOUNTS = 100;
const TARGET_REDIS_MS = 5000;
const ORDER_CONCURRENCY = process.env.BENCH_ORDER_CONCURRENCY ? Number(process.env.BENCH_ORDER_CONCURRENCY) : DEFAULT_CONCURRENCY.order;
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;

/** Runs `fn` under the V8 CPU profiler and writes the profile to `file` (nothing when `file` is unset). */
async function profiled<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!file) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.log(`    CPU profile of the measured cycle: ${file}`);
  }
}

/** Ten Kraken USD pairs: the three real series and seven derived from them (pair → [source, price scale]). */
const PAIRS: Record<string, [string, number]> = {
  'BTC/USD': ['BTC/USD', 1],
  'ETH/USD': ['ETH/USD', 1],
  'SOL/USD': ['SOL/USD', 1],
  'ADA/USD': ['ETH/USD', 1 / 3000],
  'AVAX/USD': ['SOL/USD', 0.3],
  'DOT/USD': ['ETH/USD', 1 / 300],
  'LINK/USD': ['SOL/USD', 0.15],
  'LTC/USD': ['BTC/USD', 1 / 400],
  'XRP/USD': ['BTC/USD', 1 / 60_000],
  'USDC/USD': ['BTC/USD', 0],
};

function loadCandles(): Record<string, Candle[]> {
  const real: Record<string, Candle[]> = {};
  for (const p of ['BTC/USD', 'ETH/USD', 'SOL/USD']) {
    const file = fileURLToPath(new URL(`../data/ohlcv/kraken_${p.replace('/', '')}_1h.csv`, import.meta.url));
    const all = readCandlesCsv(file, p).filter((c) => c.openTime <= FIRST_BAR + HOUR);
    real[p] = all.slice(all.findIndex((c) => c.openTime >= FIRST_BAR) - WARMUP_BARS);
  }
  const out: Record<string, Candle[]> = {};
  for (const [pair, [source, scale]] of Object.entries(PAIRS)) {
    out[pair] = real[source]!.map((c) =>
      scale === 0
        ? { ...c, pair, open: 1, high: 1.0001, low: 0.9999, close: 1, volume: c.volume * 1e4 }
        : { ...c, pair, open: round(c.open * scale), high: round(c.high * scale), low: round(c.low * scale), close: round(c.close * scale), volume: c.volume / scale },
    );
  }
  return out;
}
const round = (x: number): number => Number(x.toPrecision(8));

/** System time plus an offset the bench moves forward (an hour per bar); it never goes backwards. */
class BenchWallClock implements Clock {
  private offset: number | null = null; // none yet: the system's time
  private last = -Infinity;
  /** From now on, `now()` reads `t` (the first jump may go back to the data's years) and runs on at real speed. */
  jumpTo(t: number): void {
    const offset = t - Date.now();
    if (this.offset === null) this.last = -Infinity;
    this.offset = this.offset === null ? offset : Math.max(this.offset, offset);
  }
  now(): number {
    this.last = Math.max(this.last, Date.now() + (this.offset ?? 0));
    return this.last;
  }
}

interface Figures {
  ms: number;
  backend: string;
  orders: number;
  fills: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

async function runCase(databaseUrl: string, accountsN: number, pairs: string[], candles: Record<string, Candle[]>, profile?: string): Promise<Figures> {
  let db: Database | null = null;
  let queue: QueueClient | null = null;
  let workers: Worker[] = [];
  const namespace = `bench_${randomBytes(4).toString('hex')}`; // the fixed queue names, in a namespace of this run
  try {
    // The drop at the end terminates this database's sessions: an idle connection closing then is expected.
    db = await openDatabase({
      url: databaseUrl,
      driver: 'pg',
      onIdleError: (err: Error & { code?: string }) => {
        if (err.code !== '57P01') console.error(`database pool: ${err.message}`);
      },
    });
    queue = await openQueueClient({ redisUrl: process.env.REDIS_URL || undefined, databaseUrl, namespace, onError: (err) => console.error(`queue connection error: ${err.message}`) });

    const accounts: Account[] = [];
    for (let i = 0; i < accountsN; i++) {
      const a = await db.db.transaction(async (tx) => {
        const acc = await createAccount(tx, { slug: `b${namespace.slice(6)}-${i}`, name: `Bench ${i}`, kind: 'other' }, null, systemClock);
        await seedAccount(tx, acc.id, null, systemClock);
        return acc;
      });
      await withAccount(db.db, a.id, async (tx) => {
        const t = await latestSettings(tx, a.id, 'trading');
        await putSettings(tx, a.id, 'trading', { ...t.value, pairs }, null, systemClock);
      });
      accounts.push(a);
    }
    for (const p of pairs) await upsertCandles(db.db, candles[p]!.filter((c) => c.openTime < FIRST_BAR), 'csv');

    const clock = new BenchWallClock();
    const ctx = testContext(db.db, queue, { clock });
    // As `aether start`: fixed functions up front, order-<account> built when its first job asks.
    const gateway = createGateway(['score'], ctx);
    workers = startDispatcher(queue, ['score', 'order'], inProcessInvoker(gateway.resolve, ctx), ctx.logger, { concurrency: { score: 1, order: ORDER_CONCURRENCY } });
    const orderWorker = workers[1]!;
    const failures: string[] = [];
    const completed = { score: 0, order: 0 };
    for (const w of workers) {
      w.on('failed', (job: Job | undefined, err: Error) => failures.push(`${job?.queueName} ${job?.id}: ${err.message}`));
      w.on('completed', (job: Job) => void completed[job.queueName as 'score' | 'order']++);
    }

    const cycle = async (barTime: number): Promise<{ ms: number; jobs: Job[] }> => {
      for (const p of pairs) await upsertCandles(db!.db, candles[p]!.filter((c) => c.openTime === barTime), 'csv');
      clock.jumpTo(barTime + HOUR + 5_000); // five seconds after the bar closed, as `tick` would run
      const want = new Set(accounts.map((a) => jobId('order', a.slug, barTime)));
      const jobs: Job[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`cycle ${new Date(barTime).toISOString()} not done in ${TIMEOUT_MS} ms: ${want.size} order jobs left (${JSON.stringify(completed)} done); failures: ${failures.slice(0, 3).join(' | ')}`)),
          TIMEOUT_MS,
        );
        const onDone = (job: Job) => {
          if (!want.delete(job.id ?? '')) return;
          jobs.push(job);
          if (want.size) return;
          clearTimeout(timer);
          orderWorker.off('completed', onDone);
          resolve();
        };
        orderWorker.on('completed', onDone);
      });
      const t0 = performance.now();
      await queue!.enqueue('score', { barTime, pairs }, { jobId: jobId('score', barTime) });
      await done;
      return { ms: performance.now() - t0, jobs };
    };

    const warm = await cycle(FIRST_BAR);
    const measured = await profiled(profile, () => cycle(FIRST_BAR + HOUR));
    const score = await queue.queue('score').getJob(jobId('score', FIRST_BAR + HOUR));
    const run = measured.jobs.map((j) => (j.finishedOn ?? 0) - (j.processedOn ?? 0)).sort((a, b) => a - b);
    const firstStart = Math.min(...measured.jobs.map((j) => j.processedOn ?? Infinity));
    const lastEnd = Math.max(...measured.jobs.map((j) => j.finishedOn ?? 0));
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    const counts = await (async () => {
      try {
        const o = await c.query(`select count(*)::int as n from orders`);
        const f = await c.query(`select count(*)::int as n from fills`);
        return { orders: o.rows[0].n as number, fills: f.rows[0].n as number };
      } finally {
        await c.end();
      }
    })();
    if (failures.length) console.log(`  ${failures.length} job attempts failed, e.g. ${failures[0]}`);
    // What the measured cycle's order jobs did (their answers): traded (orders sent) or skipped, and why.
    const outcomes = new Map<string, number>();
    let sent = 0;
    for (const j of measured.jobs) {
      const r = (j.returnvalue ?? {}) as { skipped?: string; state?: string; sent?: number };
      const k = r.skipped ? `skipped (${r.skipped})` : (r.state ?? 'answered');
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      sent += r.sent ?? 0;
    }
    console.log(
      `  ${accountsN} accounts × ${pairs.length} pairs: warm-up cycle ${warm.ms.toFixed(0)} ms, measured cycle ${measured.ms.toFixed(0)} ms (${counts.orders} orders, ${counts.fills} fills in all)`,
    );
    console.log(`    measured order jobs: ${[...outcomes].map(([k, n]) => `${n} ${k}`).join(', ')}; ${sent} orders sent`);
    console.log(
      `    score job ${score?.finishedOn && score.processedOn ? score.finishedOn - score.processedOn : '?'} ms; order jobs (concurrency ${ORDER_CONCURRENCY}): first start → last done ${lastEnd - firstStart} ms, each p50 ${percentile(run, 50)} ms / p99 ${percentile(run, 99)} ms / max ${run.at(-1)} ms`,
    );
    return { ms: measured.ms, backend: queue.backend, ...counts };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    if (queue?.backend === 'redis') for (const name of ['score', 'order']) await queue.queue(name).obliterate({ force: true });
    await queue?.close();
    // BullMQ-on-PostgreSQL workers end their LISTEN connections after close() resolves: let them go before the drop.
    await new Promise((r) => setTimeout(r, 500));
    await db?.close();
  }
}

/** Each size on its own fresh database (bench/support.ts: created, migrated, dropped afterwards). */
const onFreshDatabase = (accountsN: number, pairs: string[], candles: Record<string, Candle[]>, profile?: string): Promise<Figures> =>
  withFreshDatabase((url) => runCase(url, accountsN, pairs, candles, profile));

async function main(): Promise<string> {
  const candles = loadCandles();
  const all = Object.keys(PAIRS);
  const backend = process.env.REDIS_URL ? 'BullMQ on Redis (REDIS_URL)' : 'BullMQ on PostgreSQL';
  console.log(`cycle bench: score → order (one queue; order-<account> per job, hedge inside) × N, queues: ${backend}`);
  const small = await onFreshDatabase(3, all.slice(0, 3), candles);
  const large = await onFreshDatabase(LARGE_ACCOUNTS, all, candles, CPU_PROFILE);
  const target = small.backend === 'redis' ? `large ≤ ${TARGET_REDIS_MS} ms ${large.ms <= TARGET_REDIS_MS ? 'met' : 'MISSED'}` : `large runnable: met (target ≤ ${TARGET_REDIS_MS} ms is for Redis)`;
  console.log(`targets: small < 1000 ms ${small.ms < 1000 ? 'met' : 'MISSED'}, ${target}`);
  return `bench cycle: small_ms=${small.ms.toFixed(0)} large_ms=${large.ms.toFixed(0)} large_accounts=${LARGE_ACCOUNTS} large_pairs=${all.length} queue=${small.backend} order_concurrency=${ORDER_CONCURRENCY}`;
}

console.log(await main());
