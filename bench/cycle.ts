/**
 * One trading cycle through the queues, as deployed: `score` → `order-<account>` × N → `hedge` × N,
 * each a real job function (createJobFunction) consumed by the real dispatcher (startDispatcher +
 * inProcessInvoker), on PostgreSQL with the persisted SimBroker. Two sizes: 3 accounts × 3 pairs and
 * 100 accounts × 10 pairs. Candles: the repository's real Kraken 1h BTC/ETH/SOL; the other USD pairs
 * (the repository has no data for them) are those series rescaled to each pair's price level,
 * USDC/USD flat at its peg — inserted into the store as `tick` would. One bar runs first as warm-up
 * (JIT, connection pools, first positions); the figure is the next bar, from the `score` enqueue to
 * the last hedge job's `completed` event.
 *
 * Services: PostgreSQL from TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres,
 * else an embedded PostgreSQL started here; a fresh database per size, dropped at the end. Queues:
 * BullMQ on Redis when REDIS_URL is set, else BullMQ on PostgreSQL (the runtime's choice).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job, Worker } from 'bullmq';
import pg from 'pg';
import { createAccount, type Account } from '../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../lib/accounts/settings.ts';
import { systemClock } from '../lib/clock.ts';
import { openDatabase, type Database } from '../lib/db/client.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { withAccount } from '../lib/db/scope.ts';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { upsertCandles } from '../lib/market/store.ts';
import { openQueueClient, type QueueClient } from '../lib/queue/client.ts';
import { inProcessInvoker, startDispatcher } from '../lib/queue/dispatcher.ts';
import { jobId } from '../lib/queue/jobs.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/runtime/embedded-postgres.ts';
import { createApp as hedgeApp } from '../functions/hedge/handler.ts';
import { createApp as orderApp } from '../functions/order/handler.ts';
import { createApp as scoreApp } from '../functions/score/handler.ts';
import { testContext } from '../tests/helpers/context.ts';

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const HOUR = 3_600_000;
const WARMUP_BARS = 420;
const FIRST_BAR = Date.parse('2022-05-05T00:00:00Z'); // warm-up cycle; the measured one is the next bar
const TIMEOUT_MS = 120_000;

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

async function reachablePg(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false; // not reachable: the caller tries the next source and says which it used
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function adminQuery(admin: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

interface Figures {
  ms: number;
  backend: string;
  orders: number;
  fills: number;
}

async function runCase(admin: string, accountsN: number, pairs: string[], candles: Record<string, Candle[]>): Promise<Figures> {
  const name = `aether_bench_${randomBytes(5).toString('hex')}`;
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  let db: Database | null = null;
  let queue: QueueClient | null = null;
  let workers: Worker[] = [];
  const tag = randomBytes(3).toString('hex'); // queue names unique to this run on a shared Redis
  try {
    await adminQuery(admin, `create database ${name}`);
    await migrateDatabase(databaseUrl, 'pg');
    db = await openDatabase({ url: databaseUrl, driver: 'pg', max: 10 });
    queue = await openQueueClient({ redisUrl: process.env.REDIS_URL || undefined, databaseUrl, onError: (err) => console.error(`queue connection error: ${err.message}`) });

    const accounts: Account[] = [];
    for (let i = 0; i < accountsN; i++) {
      const a = await db.db.transaction(async (tx) => {
        const acc = await createAccount(tx, { slug: `b${tag}-${i}`, name: `Bench ${i}`, kind: 'other' }, null, systemClock);
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

    const ctx = testContext(db.db, queue, { clock: systemClock });
    const apps = { score: scoreApp(ctx), hedge: hedgeApp(ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(ctx, a.slug)])) };
    workers = startDispatcher(queue, Object.keys(apps), inProcessInvoker(apps), ctx.logger);
    const hedgeWorker = workers[1]!;
    const failures: string[] = [];
    for (const w of workers) w.on('failed', (job: Job | undefined, err: Error) => failures.push(`${job?.queueName} ${job?.id}: ${err.message}`));

    const cycle = async (barTime: number): Promise<number> => {
      for (const p of pairs) await upsertCandles(db!.db, candles[p]!.filter((c) => c.openTime === barTime), 'csv');
      const want = new Set(accounts.map((a) => jobId('hedge', a.slug, barTime)));
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cycle ${new Date(barTime).toISOString()} not done in ${TIMEOUT_MS} ms: ${want.size} hedge jobs left; failures: ${failures.slice(0, 3).join(' | ')}`)), TIMEOUT_MS);
        const onDone = (job: Job) => {
          if (!want.delete(job.id ?? '') || want.size) return;
          clearTimeout(timer);
          hedgeWorker.off('completed', onDone);
          resolve();
        };
        hedgeWorker.on('completed', onDone);
      });
      const t0 = performance.now();
      await queue!.enqueue('score', { barTime, pairs }, { jobId: jobId('score', barTime) });
      await done;
      return performance.now() - t0;
    };

    const warm = await cycle(FIRST_BAR);
    const ms = await cycle(FIRST_BAR + HOUR);
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
    console.log(`  ${accountsN} accounts × ${pairs.length} pairs: warm-up cycle ${warm.toFixed(0)} ms, measured cycle ${ms.toFixed(0)} ms (${counts.orders} orders, ${counts.fills} fills in all)`);
    return { ms, backend: queue.backend, ...counts };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue?.close();
    await db?.close();
    await adminQuery(admin, `drop database if exists ${name} with (force)`);
  }
}

async function main(): Promise<string> {
  let admin = process.env.TEST_DATABASE_URL || DEFAULT_PG;
  let embedded: EmbeddedDatabase | null = null;
  let embeddedHome: string | null = null;
  if (!(await reachablePg(admin))) {
    if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL ${admin} is unreachable`);
    embeddedHome = mkdtempSync(join(tmpdir(), 'aether-bench-pg-'));
    console.log(`no PostgreSQL at ${DEFAULT_PG}: starting an embedded one in ${embeddedHome}`);
    embedded = await startEmbeddedPostgres(embeddedHome, (m) => console.warn(m));
    admin = embedded.url.replace(/\/aether$/, '/postgres');
  }
  try {
    const candles = loadCandles();
    const all = Object.keys(PAIRS);
    const backend = process.env.REDIS_URL ? 'BullMQ on Redis (REDIS_URL)' : 'BullMQ on PostgreSQL';
    console.log(`cycle bench: score → order-<account> × N → hedge × N, queues: ${backend}`);
    const small = await runCase(admin, 3, all.slice(0, 3), candles);
    const large = await runCase(admin, 100, all, candles);
    console.log(`targets: small < 1000 ms ${small.ms < 1000 ? 'met' : 'MISSED'}, large < 10000 ms ${large.ms < 10_000 ? 'met' : 'MISSED'}`);
    return `bench cycle: small_ms=${small.ms.toFixed(0)} large_ms=${large.ms.toFixed(0)} large_accounts=100 large_pairs=${all.length} queue=${small.backend}`;
  } finally {
    await embedded?.stop();
    if (embeddedHome) rmSync(embeddedHome, { recursive: true, force: true });
  }
}

console.log(await main());
