import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Hono } from 'hono';
import type { Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZodError } from 'zod';
import { createLogger } from '../../lib/log.ts';
import { openQueueClient, QueueBackendError, type QueueClient } from '../../lib/queue/client.ts';
import { inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { cronSchedules, loadStack } from '../../lib/runtime/stack.ts';
import { adminQuery } from '../helpers/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { describeForBackend, openTestQueues, QUEUE_BACKENDS, randomOrderQueue, requireRedisUrl, type QueueBackend } from '../helpers/queues.ts';

const log = createLogger('silent');
const execFileAsync = promisify(execFile);

/** Resolves with the job once `worker` reports `event` for `jobId` (the worker's own events, no polling). */
function jobEvent(worker: Worker, event: 'completed' | 'failed', jobId: string): Promise<Job> {
  return new Promise((resolve) => {
    const listener = (job: Job | undefined): void => {
      if (job?.id !== jobId) return;
      worker.off(event, listener);
      resolve(job);
    };
    worker.on(event, listener);
  });
}

/** A function app that answers each call with the next status of `statuses` (the last one repeats). */
function scriptedFunction(statuses: number[]): { app: Hono; calls: Array<{ body: unknown; attempt: string | undefined; requestId: string | undefined }> } {
  const calls: Array<{ body: unknown; attempt: string | undefined; requestId: string | undefined }> = [];
  const app = new Hono();
  app.post('/', async (c) => {
    const body = (await c.req.json()) as { barTime: number };
    calls.push({ body, attempt: c.req.header('x-job-attempt'), requestId: c.req.header('x-request-id') });
    const status = statuses[Math.min(calls.length, statuses.length) - 1] ?? 500;
    if (status === 200) return c.json({ handled: body.barTime, call: calls.length }, 200);
    return c.json({ code: 'SCRIPTED', message: `scripted ${status}` }, status as 400 | 503);
  });
  return { app, calls };
}

/** A Redis URL on a logical database nobody else uses, for tests that must use fixed queue names. */
async function isolatedRedisUrl(base: string): Promise<string> {
  for (let db = 15; db >= 1; db--) {
    const url = new URL(base);
    url.pathname = `/${db}`;
    const r = new Redis(url.toString(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      if ((await r.dbsize()) === 0) return url.toString();
    } finally {
      r.disconnect();
    }
  }
  throw new Error(`no empty logical database on ${base} for the schedule test`);
}

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb?.drop();
});

describe.each(QUEUE_BACKENDS)('queues on %s', (backend: QueueBackend) => {
  describeForBackend(backend)(`${backend} backend`, () => {
    let client: QueueClient;
    const used: string[] = [];
    const fresh = (): string => {
      const name = randomOrderQueue();
      used.push(name);
      return name;
    };

    beforeAll(async () => {
      client = await openTestQueues(backend, testDb.url);
    });

    afterAll(async () => {
      if (!client) return;
      for (const name of used) await client.queue(name).obliterate({ force: true });
      await client.close();
    });

    it('runs an enqueued job on a worker to completion', async () => {
      const name = fresh();
      const seen: unknown[] = [];
      const worker = client.worker(name, async (job) => {
        seen.push(job.data);
        return { ok: true };
      });
      const done = jobEvent(worker, 'completed', 'bar-1');
      await client.enqueue(name, { barTime: 1_767_225_600_000 }, { jobId: 'bar-1' });
      const job = await done;
      expect(job.returnvalue).toEqual({ ok: true });
      expect(seen).toEqual([{ barTime: 1_767_225_600_000 }]);
      expect(await (await client.queue(name).getJob('bar-1'))?.getState()).toBe('completed');
      await worker.close();
    });

    it('keeps one job when the same jobId is enqueued twice', async () => {
      const name = fresh();
      await client.enqueue(name, { barTime: 1 }, { jobId: 'same-key' });
      await client.enqueue(name, { barTime: 2 }, { jobId: 'same-key' });
      const counts = await client.queue(name).getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
      const job = await client.queue(name).getJob('same-key');
      expect(job?.data).toEqual({ barTime: 1 }); // the first payload stands
    });

    it.each([
      ['a missing field', {}],
      ['a wrong type', { barTime: 'soon' }],
      ['a negative time', { barTime: -5 }],
      ['an unknown field', { barTime: 1, secret: 'x' }],
    ])('refuses a payload with %s at enqueue and adds nothing', async (_label, payload) => {
      const name = fresh();
      await expect(client.enqueue(name, payload, { jobId: 'bad' })).rejects.toBeInstanceOf(ZodError);
      const counts = await client.queue(name).getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).every((n) => n === 0)).toBe(true);
      expect(await client.queue(name).getJob('bad')).toBeUndefined();
    });

    it('refuses a queue name that is no job kind', async () => {
      await expect(client.enqueue('no-such-function', {}, { jobId: 'x' })).rejects.toThrow(/unknown queue/);
    });

    it('dispatches to the in-process function and completes the job with its JSON answer', async () => {
      const name = fresh();
      const fn = scriptedFunction([200]);
      const [worker] = startDispatcher(client, [name], inProcessInvoker({ [name]: fn.app }), log, 1);
      const done = jobEvent(worker!, 'completed', 'ok-1');
      await client.enqueue(name, { barTime: 42 }, { jobId: 'ok-1' });
      const job = await done;
      expect(job.returnvalue).toEqual({ handled: 42, call: 1 });
      expect(fn.calls).toEqual([{ body: { barTime: 42 }, attempt: '1', requestId: 'ok-1' }]);
      await worker!.close();
    });

    it('fails a job the function answers 400 once, without retrying', async () => {
      const name = fresh();
      const fn = scriptedFunction([400]);
      const [worker] = startDispatcher(client, [name], inProcessInvoker({ [name]: fn.app }), log, 1);
      const failed = jobEvent(worker!, 'failed', 'bad-1');
      await client.enqueue(name, { barTime: 7 }, { jobId: 'bad-1' });
      const job = await failed;
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/answered 400/);
      const stored = await client.queue(name).getJob('bad-1');
      // 'failed', not 'delayed': BullMQ gave up although 5 attempts were allowed.
      expect(await stored?.getState()).toBe('failed');
      expect(stored?.opts.attempts).toBe(5);
      expect(fn.calls).toHaveLength(1);
      await worker!.close();
    });

    it('retries a job the function answers 503 and completes it when the function recovers', async () => {
      const name = fresh();
      const fn = scriptedFunction([503, 200]);
      const [worker] = startDispatcher(client, [name], inProcessInvoker({ [name]: fn.app }), log, 1);
      const failedOnce = jobEvent(worker!, 'failed', 'flaky-1');
      const done = jobEvent(worker!, 'completed', 'flaky-1');
      await client.enqueue(name, { barTime: 9 }, { jobId: 'flaky-1' });
      const first = await failedOnce;
      expect(first.failedReason).toMatch(/answered 503/);
      // Backoff is exponential from 1 s, so the retry waits in 'delayed' before it runs again.
      const job = await done;
      expect(job.returnvalue).toEqual({ handled: 9, call: 2 });
      expect(job.attemptsMade).toBe(2);
      expect(fn.calls.map((c) => c.attempt)).toEqual(['1', '2']);
      await worker!.close();
    });

    it('answers an unknown function name as a permanent failure', async () => {
      const name = fresh();
      const [worker] = startDispatcher(client, [name], inProcessInvoker({}), log, 1);
      const failed = jobEvent(worker!, 'failed', 'orphan');
      await client.enqueue(name, { barTime: 1 }, { jobId: 'orphan' });
      const job = await failed;
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/no function named/);
      await worker!.close();
    });

    it('waits for the running job when the client closes', async () => {
      const name = fresh();
      const own = await openTestQueues(backend, testDb.url);
      let release!: () => void;
      const started = new Promise<void>((r) => (release = r));
      let finished = false;
      own.worker(name, async () => {
        release();
        await new Promise((r) => setTimeout(r, 400));
        finished = true;
        return { finished };
      });
      await own.enqueue(name, { barTime: 3 }, { jobId: 'slow-1' });
      await started;
      expect(finished).toBe(false);
      await own.close();
      expect(finished).toBe(true);
      const job = await client.queue(name).getJob('slow-1');
      expect(await job?.getState()).toBe('completed');
      expect(job?.returnvalue).toEqual({ finished: true });
    });

    it('leaves nothing open after close, so the process can exit on its own', async () => {
      // A child process: if close() left a socket open, it would never exit and this test times out.
      const script = `
        import { openQueueClient } from ${JSON.stringify(new URL('../../lib/queue/client.ts', import.meta.url).href)};
        const c = await openQueueClient({ redisUrl: process.env.Q_REDIS || undefined, databaseUrl: process.env.Q_DB, onError: (e) => { console.error(e); process.exitCode = 1; } });
        if (c.backend !== process.env.Q_BACKEND) throw new Error('wrong backend ' + c.backend);
        const w = c.worker(process.env.Q_NAME, async () => 'ok');
        const done = new Promise((r) => w.on('completed', r));
        await c.enqueue(process.env.Q_NAME, { barTime: 1 }, { jobId: 'exit-1' });
        await done;
        await c.close();
        console.log('closed');
      `;
      const name = fresh();
      const env = { ...process.env, Q_REDIS: backend === 'redis' ? requireRedisUrl() : '', Q_DB: testDb.url, Q_NAME: name, Q_BACKEND: backend };
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, timeout: 20_000 });
      expect(stdout.trim()).toBe('closed');
    });

    it("registers stack.yml's cron schedules as BullMQ job schedulers, idempotently", async () => {
      const schedules = cronSchedules(loadStack());
      expect(schedules.length).toBeGreaterThan(0);
      // Schedulers use the real queue names (tick, hedge, …): on Redis keep them off the shared keyspace.
      const own = backend === 'redis' ? await openQueueClient({ redisUrl: await isolatedRedisUrl(requireRedisUrl()), databaseUrl: testDb.url, onError: (e) => { throw e; } }) : client;
      try {
        await registerSchedules(own, schedules);
        await registerSchedules(own, schedules); // a restart registers again: still one scheduler each
        for (const s of schedules) {
          const schedulers = await own.queue(s.function).getJobSchedulers();
          expect(schedulers).toHaveLength(1);
          const [sch] = schedulers;
          expect(sch).toMatchObject({ key: `cron-${s.function}`, pattern: s.schedule, tz: 'UTC' });
          // The next run is on the schedule's minute (UTC), and it is in the future.
          expect(new Date(sch!.next!).getUTCMinutes()).toBe(Number(s.schedule.split(' ')[0]));
          expect(sch!.next!).toBeGreaterThan(Date.now());
        }
      } finally {
        for (const s of schedules) await own.queue(s.function).obliterate({ force: true });
        if (own !== client) await own.close();
      }
    });
  });
});

describe('an unreachable Redis', () => {
  let bare: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    bare = await createBareDatabase();
  });
  afterAll(async () => {
    await bare?.drop();
  });

  it('makes openQueueClient reject with QueueBackendError naming REDIS_URL, fast, without using PostgreSQL', async () => {
    const started = Date.now();
    // The database URL is reachable, so a silent switch to PostgreSQL would have succeeded.
    const attempt = openQueueClient({ redisUrl: 'redis://127.0.0.1:1', databaseUrl: bare.url, onError: () => undefined });
    await expect(attempt).rejects.toBeInstanceOf(QueueBackendError);
    await expect(attempt).rejects.toThrow(/REDIS_URL redis:\/\/127\.0\.0\.1:1 is unreachable/);
    // A fail-fast bound (not a performance figure): start-up must not hang on retries.
    expect(Date.now() - started).toBeLessThan(5000);
    // The PostgreSQL backend would have created BullMQ's schema on opening.
    const c = new pg.Client({ connectionString: bare.url });
    await c.connect();
    try {
      const r = await c.query(`select count(*)::int as n from information_schema.schemata where schema_name = 'bullmq'`);
      expect(r.rows[0].n).toBe(0);
    } finally {
      await c.end();
    }
  });

  it('redacts credentials in the error', async () => {
    await expect(openQueueClient({ redisUrl: 'redis://user:hunter2@127.0.0.1:1', databaseUrl: bare.url, onError: () => undefined })).rejects.toThrow(
      /REDIS_URL redis:\/\/\*\*\*@127\.0\.0\.1:1/,
    );
  });
});

/** An empty database (no migrations): shows whether anything wrote to it. */
async function createBareDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = inject('adminDatabaseUrl');
  const name = `aether_t_${randomBytes(5).toString('hex')}`;
  const run = (statement: string): Promise<void> => adminQuery(admin, statement);
  await run(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}
