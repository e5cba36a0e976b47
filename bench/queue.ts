/**
 * Queue latency, enqueue → function done, on both backends: BullMQ on Redis and BullMQ on
 * PostgreSQL. A real in-process job function (createJobFunction: request ids, zod validation, the
 * error shape) is consumed by the real dispatcher (startDispatcher + inProcessInvoker): `order` jobs
 * `{ account, barTime }` on the one `order` queue, invoked on `order-<account>`. Jobs run one
 * at a time (closed loop: the next is enqueued once the previous completed), so the figures are the
 * latency an idle worker adds, not queueing behind a backlog. Per job: t0 just before `enqueue`,
 * the handler's start and finish, and the worker's `completed` event. 50 warm-up jobs are not counted.
 *
 * Services: a fresh PostgreSQL database (bench/support.ts: TEST_DATABASE_URL, the local service, or an
 * embedded PostgreSQL); Redis from REDIS_URL, else redis://127.0.0.1:6379 (required).
 * Everything created (database, queues, embedded server) is removed at the end. The headline
 * PostgreSQL figures use the runtime's settings; a second PostgreSQL run with asynchronous commit
 * shows how much of its latency is the per-commit WAL flush.
 */
import { randomBytes } from 'node:crypto';
import type { Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { openDatabase, type Database } from '../lib/db/client.ts';
import { createJobFunction } from '../lib/http/job-function.ts';
import { createLogger } from '../lib/log.ts';
import { openQueueClient, type QueueClient } from '../lib/queue/client.ts';
import { inProcessInvoker, startDispatcher } from '../lib/queue/dispatcher.ts';
import { testContext } from '../tests/helpers/context.ts';
import { adminQuery, withFreshDatabase } from './support.ts';

const JOBS = 1000;
const WARMUP = 50;
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

interface Sample {
  started: number; // handler entered, ms after t0
  done: number; // handler returned, ms after t0
  completed: number; // worker's completed event, ms after t0
}


async function requireRedis(url: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  let cause: Error | undefined;
  r.on('error', (err: Error) => (cause = err)); // the socket error; connect() only says "closed"
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    throw new Error(`bench queue needs Redis: ${url} is unreachable (${(cause ?? (err as Error)).message}); start Redis or set REDIS_URL`, { cause: err });
  } finally {
    r.disconnect();
  }
}


const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const fmt = (ms: number): string => ms.toFixed(2);

function summarise(label: string, samples: Sample[]): { p50: number; p99: number } {
  const figures = (pick: (s: Sample) => number) => {
    const v = samples.map(pick).sort((a, b) => a - b);
    return { p50: percentile(v, 50), p99: percentile(v, 99), max: v[v.length - 1]! };
  };
  const started = figures((s) => s.started);
  const done = figures((s) => s.done);
  const completed = figures((s) => s.completed);
  const line = (name: string, f: { p50: number; p99: number; max: number }): string =>
    `  ${name.padEnd(28)} p50 ${fmt(f.p50).padStart(7)} ms  p99 ${fmt(f.p99).padStart(7)} ms  max ${fmt(f.max).padStart(7)} ms`;
  console.log(`${label} (${samples.length} jobs):`);
  console.log(line('enqueue → handler starts', started));
  console.log(line('enqueue → handler done', done));
  console.log(line('enqueue → job completed', completed));
  return { p50: done.p50, p99: done.p99 };
}

async function measure(client: QueueClient, databaseUrl: string): Promise<Sample[]> {
  const queue = 'order'; // each client has a namespace of its own (see main)
  const account = 'bench';
  const fnName = `order-${account}`;
  const log = createLogger('silent');
  let db: Database | null = null;
  let workers: Worker[] = [];
  try {
    db = await openDatabase({ url: databaseUrl, driver: 'pg', max: 2 });
    const ctx = testContext(db.db, client, { logger: log, version: 'bench' });
    // The handler records when it runs; the bench loop waits on it.
    const marks = new Map<string, { started: number; done: number }>();
    const fn = createJobFunction(fnName, 'order', ctx, async (payload, meta) => {
      const started = performance.now();
      const mark = { started, done: 0 };
      marks.set(meta.jobId, mark);
      const result = { barTime: payload.barTime };
      mark.done = performance.now();
      return result;
    });
    workers = startDispatcher(client, [queue], inProcessInvoker({ [fnName]: fn }, ctx), log, 4);
    const worker = workers[0]!;
    await worker.waitUntilReady();
    let pending: { id: string; resolve: (at: number) => void; reject: (err: Error) => void } | null = null;
    worker.on('completed', (job: Job) => {
      if (pending && job.id === pending.id) pending.resolve(performance.now());
    });
    worker.on('failed', (job: Job | undefined, err: Error) => {
      if (pending && job?.id === pending.id) pending.reject(new Error(`bench job ${job.id} failed: ${err.message}`));
    });

    const samples: Sample[] = [];
    for (let i = 0; i < WARMUP + JOBS; i++) {
      const id = `bench-${i}`;
      const completedAt = new Promise<number>((resolve, reject) => (pending = { id, resolve, reject }));
      const t0 = performance.now();
      await client.enqueue(queue, { account, barTime: i }, { jobId: id });
      const completed = await completedAt;
      const mark = marks.get(id);
      if (!mark) throw new Error(`job ${id} completed without running the function`);
      if (i >= WARMUP) samples.push({ started: mark.started - t0, done: mark.done - t0, completed: completed - t0 });
      marks.delete(id);
    }
    return samples;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await client.queue(queue).obliterate({ force: true });
    await db?.close();
  }
}

async function main(): Promise<string> {
  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS;
  await requireRedis(redisUrl);

  return withFreshDatabase(async (databaseUrl, source) => {
  console.log(`PostgreSQL: ${source}`);
  const name = new URL(databaseUrl).pathname.slice(1);
  const clients: QueueClient[] = [];
  try {
    const onError = (err: Error): void => console.error(`queue connection error: ${err.message}`);

    const namespace = (): string => `bench_${randomBytes(4).toString('hex')}`; // off the real queues' keys
    const redis = await openQueueClient({ redisUrl, databaseUrl, namespace: namespace(), onError });
    clients.push(redis);
    const redisFigures = summarise(`BullMQ on Redis (${redisUrl.replace(/\/\/[^@/]*@/, '//***@')})`, await measure(redis, databaseUrl));

    const postgres = await openQueueClient({ databaseUrl, namespace: namespace(), onError });
    clients.push(postgres);
    const pgFigures = summarise('BullMQ on PostgreSQL', await measure(postgres, databaseUrl));

    // Investigation, not the headline: each BullMQ-on-PostgreSQL step (add, fetch, complete) is a
    // commit that waits for the WAL flush. With asynchronous commit the flush leaves the hot path (a
    // server crash can lose the last ~0.6 s of queue writes; no corruption). Not the runtime default.
    // A database-level setting (this throw-away database only), picked up by the new client's sessions.
    await adminQuery(databaseUrl, `alter database ${name} set synchronous_commit = off`);
    const postgresAsync = await openQueueClient({ databaseUrl, namespace: namespace(), onError });
    clients.push(postgresAsync);
    summarise('BullMQ on PostgreSQL, synchronous_commit=off (comparison only)', await measure(postgresAsync, databaseUrl));

    console.log(`targets: Redis p99 < 10 ms ${redisFigures.p99 < 10 ? 'met' : 'MISSED'}, PostgreSQL p99 < 25 ms ${pgFigures.p99 < 25 ? 'met' : 'MISSED'}`);
    return `bench queue: redis_p50_ms=${fmt(redisFigures.p50)} redis_p99_ms=${fmt(redisFigures.p99)} pg_p50_ms=${fmt(pgFigures.p50)} pg_p99_ms=${fmt(pgFigures.p99)}`;
  } finally {
    for (const c of clients) await c.close();
  }
  });
}

console.log(await main());
