import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Hono } from 'hono';
import type { Job, Worker } from 'bullmq';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { ZodError } from 'zod';
import { createAccount } from '../../lib/accounts/accounts.ts';
import { seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock } from '../../lib/clock.ts';
import { jobsTotal } from '../../lib/http/metrics.ts';
import { createLogger, type Logger } from '../../lib/log.ts';
import { openQueueClient, QueueBackendError, type QueueClient } from '../../lib/queue/client.ts';
import { BUSY_CODE, inProcessInvoker, jobRequest, startDispatcher, type DispatcherOptions, type Invoke, type JobSigner } from '../../lib/queue/dispatcher.ts';
import { JOB_QUEUES, jobId } from '../../lib/queue/jobs.ts';
import { registerSchedules } from '../../lib/runtime/schedules.ts';
import { cronSchedules, functionNames, loadStack } from '../../lib/runtime/stack.ts';
import { createGateway } from '../../bin/gateway.ts';
import { adminQuery } from '../helpers/postgres.ts';
import { testContext } from '../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { describeForBackend, QUEUE_BACKENDS, randomSlug, requireRedisUrl, type QueueBackend } from '../helpers/queues.ts';

const log = createLogger('silent');
/** The scripted functions below check no signature; the dispatcher signs regardless. */
const signer: JobSigner = { jobKey: randomBytes(32), clock: systemClock };
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

interface Call {
  fn: string;
  body: { account: string; barTime: number };
  attempt: string | undefined;
  requestId: string | undefined;
  start: number;
  end: number;
}

/**
 * Stand-ins for `order-<account>` functions: each answers with the next status of `statuses` (the last
 * one repeats) after `workMs`, and every call is recorded with the function that received it.
 */
function scriptedFunctions(statuses: number[] = [200], workMs = 0) {
  const calls: Call[] = [];
  const apps = new Map<string, Hono>();
  const app = (fn: string): Hono => {
    let a = apps.get(fn);
    if (a) return a;
    a = new Hono();
    a.post('/', async (c) => {
      const body = (await c.req.json()) as Call['body'];
      const call: Call = { fn, body, attempt: c.req.header('x-job-attempt'), requestId: c.req.header('x-request-id'), start: performance.now(), end: 0 };
      calls.push(call);
      const mine = calls.filter((x) => x.fn === fn).length;
      if (workMs) await new Promise((r) => setTimeout(r, workMs));
      call.end = performance.now();
      const status = statuses[Math.min(mine, statuses.length) - 1] ?? 500;
      if (status === 200) return c.json({ fn, handled: body.barTime, call: mine }, 200);
      return c.json({ code: 'SCRIPTED', message: `scripted ${status}` }, status as 400 | 503);
    });
    apps.set(fn, a);
    return a;
  };
  return { calls, app, record: (names: string[]) => Object.fromEntries(names.map((n) => [n, app(n)])) };
}

const counter = async (queue: string, outcome: string): Promise<number> =>
  (await jobsTotal.get()).values.find((v) => v.labels.queue === queue && v.labels.outcome === outcome)?.value ?? 0;

/** A namespace (Redis key prefix / PostgreSQL schema) of its own: the real queue names, nobody else's jobs. */
const namespace = (): string => `t_${randomBytes(5).toString('hex')}`;

let testDb: TestDatabase;

beforeAll(async () => {
  testDb = await createTestDatabase();
});

afterAll(async () => {
  await testDb?.drop();
});

const openOn = (backend: QueueBackend, ns: string): Promise<QueueClient> =>
  openQueueClient({ redisUrl: backend === 'redis' ? requireRedisUrl() : undefined, databaseUrl: testDb.url, namespace: ns, onError: rethrowLater });

function rethrowLater(err: Error): void {
  setImmediate(() => {
    throw err;
  });
}

describe.each(QUEUE_BACKENDS)('queues on %s', (backend: QueueBackend) => {
  describeForBackend(backend)(`${backend} backend`, () => {
    let client: QueueClient;
    let ns: string;
    const workers: Worker[] = [];
    const dispatch = (invoke: Invoke, logger: Logger, opts: DispatcherOptions | number): Worker => {
      const [w] = startDispatcher(client, ['order'], invoke, logger, opts);
      workers.push(w!);
      return w!;
    };

    beforeAll(async () => {
      ns = namespace();
      client = await openOn(backend, ns);
      expect(client.backend).toBe(backend);
    });

    afterEach(async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()));
      for (const q of JOB_QUEUES) await client.queue(q).obliterate({ force: true });
    });

    afterAll(async () => {
      if (!client) return;
      await client.close();
      if (backend === 'postgres') await adminQuery(testDb.url, `drop schema if exists ${ns} cascade`);
    });

    it('runs an enqueued order job on a worker to completion', async () => {
      const seen: unknown[] = [];
      const worker = client.worker('order', async (job) => {
        seen.push(job.data);
        return { ok: true };
      });
      workers.push(worker);
      const done = jobEvent(worker, 'completed', 'bar-1');
      await client.enqueue('order', { account: 'company', barTime: 1_767_225_600_000 }, { jobId: 'bar-1' });
      const job = await done;
      expect(job.returnvalue).toEqual({ ok: true });
      expect(seen).toEqual([{ account: 'company', barTime: 1_767_225_600_000 }]);
      expect(await (await client.queue('order').getJob('bar-1'))?.getState()).toBe('completed');
    });

    it('keeps one job when the same jobId is enqueued twice', async () => {
      const id = jobId('order', 'company', 1);
      await client.enqueue('order', { account: 'company', barTime: 1 }, { jobId: id });
      await client.enqueue('order', { account: 'company', barTime: 2 }, { jobId: id });
      const counts = await client.queue('order').getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
      const job = await client.queue('order').getJob(id);
      expect(job?.data).toEqual({ account: 'company', barTime: 1 }); // the first payload stands
    });

    it('adds a bar\'s order jobs in one call, keeps ids already there, and adds none when one payload is bad', async () => {
      await client.enqueue('order', { account: 'alpha', barTime: 5 }, { jobId: jobId('order', 'alpha', 5) });
      const jobs = ['alpha', 'beta', 'gamma'].map((a) => ({ data: { account: a, barTime: 6 }, jobId: jobId('order', a, 5) }));
      await client.enqueueMany('order', jobs);
      const stored = await Promise.all(['alpha', 'beta', 'gamma'].map((a) => client.queue('order').getJob(jobId('order', a, 5))));
      expect(stored.map((j) => j?.data)).toEqual([
        { account: 'alpha', barTime: 5 }, // already there: the first payload stands
        { account: 'beta', barTime: 6 },
        { account: 'gamma', barTime: 6 },
      ]);
      await expect(client.enqueueMany('order', [{ data: { account: 'delta', barTime: 7 }, jobId: 'd-7' }, { data: { account: 'Bad', barTime: 7 }, jobId: 'b-7' }])).rejects.toBeInstanceOf(ZodError);
      expect(await client.queue('order').getJob('d-7')).toBeUndefined();
    });

    it.each([
      ['no account', { barTime: 1 }],
      ['no bar time', { account: 'company' }],
      ['an account that is no slug', { account: 'Company Ltd', barTime: 1 }],
      ['a wrong type', { account: 'company', barTime: 'soon' }],
      ['a negative time', { account: 'company', barTime: -5 }],
      ['an unknown field', { account: 'company', barTime: 1, secret: 'x' }],
    ])('refuses an order payload with %s at enqueue and adds nothing', async (_label, payload) => {
      await expect(client.enqueue('order', payload, { jobId: 'bad' })).rejects.toBeInstanceOf(ZodError);
      const counts = await client.queue('order').getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).every((n) => n === 0)).toBe(true);
      expect(await client.queue('order').getJob('bad')).toBeUndefined();
    });

    it.each(['no-such-function', 'order-company', 'hedge'])('refuses the queue %s (one order queue; no hedge queue)', async (name) => {
      await expect(client.enqueue(name, { account: 'company', barTime: 1 }, { jobId: 'x' })).rejects.toThrow(/unknown queue/);
    });

    it('invokes order-<account> named by each job: a job for X reaches order-X only', async () => {
      const fns = scriptedFunctions([200]);
      const worker = dispatch(inProcessInvoker(fns.record(['order-alpha', 'order-beta', 'order-gamma']), signer), log, 4);
      const want = [
        ['alpha', 10],
        ['beta', 10],
        ['gamma', 10],
        ['alpha', 11],
        ['beta', 11],
      ] as const;
      const done = want.map(([a, t]) => jobEvent(worker, 'completed', jobId('order', a, t)));
      for (const [a, t] of want) await client.enqueue('order', { account: a, barTime: t }, { jobId: jobId('order', a, t) });
      const jobs = await Promise.all(done);
      for (const [i, [a, t]] of want.entries()) expect(jobs[i]!.returnvalue).toMatchObject({ fn: `order-${a}`, handled: t });
      expect(fns.calls).toHaveLength(want.length);
      for (const c of fns.calls) {
        expect(c.fn).toBe(`order-${c.body.account}`); // the payload travels to its own account's function
        expect(c.requestId).toBe(jobId('order', c.body.account, c.body.barTime));
        expect(c.attempt).toBe('1');
      }
      expect(fns.calls.filter((c) => c.fn === 'order-alpha').map((c) => c.body.barTime).sort()).toEqual([10, 11]);
    });

    it('never runs two jobs of one account at once, while other accounts run alongside', async () => {
      const fns = scriptedFunctions([200], 250);
      const accounts = ['alpha', 'beta', 'gamma'];
      const worker = dispatch(inProcessInvoker(fns.record(accounts.map((a) => `order-${a}`)), signer), log, { concurrency: 4, busyRetryMs: 30 });
      // Alpha has a backlog (after an outage: one job per missed bar); beta and gamma one job each.
      const jobs = [...[1, 2, 3, 4].map((t) => ['alpha', t] as const), ['beta', 1] as const, ['gamma', 1] as const];
      const done = jobs.map(([a, t]) => jobEvent(worker, 'completed', jobId('order', a, t)));
      for (const [a, t] of jobs) await client.enqueue('order', { account: a, barTime: t }, { jobId: jobId('order', a, t) });
      const finished = await Promise.all(done);
      expect(fns.calls).toHaveLength(jobs.length);
      for (const a of accounts) {
        const mine = fns.calls.filter((c) => c.fn === `order-${a}`).sort((x, y) => x.start - y.start);
        for (let i = 1; i < mine.length; i++) expect(mine[i]!.start, `${a} job ${i} overlapped the one before`).toBeGreaterThanOrEqual(mine[i - 1]!.end);
      }
      // Waiting for its turn spends no attempt.
      for (const j of finished) expect(j.attemptsMade).toBe(1);
      // Alpha's backlog did not hold the others back: they ran while alpha's first job did.
      const alphaFirst = fns.calls.filter((c) => c.fn === 'order-alpha').sort((x, y) => x.start - y.start)[0]!;
      for (const a of ['beta', 'gamma']) {
        const c = fns.calls.find((x) => x.fn === `order-${a}`)!;
        expect(c.start, a).toBeLessThan(alphaFirst.end);
      }
    });

    it('runs a job again, without spending an attempt, when its function answers that the account is busy elsewhere', async () => {
      // What an order function answers while another dispatcher replica's job holds the account's lock.
      let calls = 0;
      const app = new Hono();
      app.post('/', (c) => (++calls < 3 ? c.json({ code: BUSY_CODE, message: 'held by another job', requestId: 'x' }, 409) : c.json({ ran: calls }, 200)));
      const before = { retried: await counter('order', 'retried'), rejected: await counter('order', 'rejected') };
      const worker = dispatch(inProcessInvoker({ 'order-alpha': app }, signer), log, { concurrency: 1, busyRetryMs: 30 });
      const done = jobEvent(worker, 'completed', 'busy-1');
      await client.enqueue('order', { account: 'alpha', barTime: 8 }, { jobId: 'busy-1' });
      const job = await done;
      expect(job.returnvalue).toEqual({ ran: 3 });
      expect(job.attemptsMade).toBe(1);
      expect({ retried: await counter('order', 'retried'), rejected: await counter('order', 'rejected') }).toEqual(before);
    });

    it('fails a job the function answers 400 once, without retrying, and counts it rejected', async () => {
      const fns = scriptedFunctions([400]);
      const before = await counter('order', 'rejected');
      const worker = dispatch(inProcessInvoker(fns.record(['order-alpha']), signer), log, 1);
      const failed = jobEvent(worker, 'failed', 'bad-1');
      await client.enqueue('order', { account: 'alpha', barTime: 7 }, { jobId: 'bad-1' });
      const job = await failed;
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/order-alpha answered 400/);
      const stored = await client.queue('order').getJob('bad-1');
      // 'failed', not 'delayed': BullMQ gave up although 5 attempts were allowed.
      expect(await stored?.getState()).toBe('failed');
      expect(stored?.opts.attempts).toBe(5);
      expect(fns.calls).toHaveLength(1);
      expect(await counter('order', 'rejected')).toBe(before + 1);
    });

    it('retries a job the function answers 503 and completes it when the function recovers (retried, then done)', async () => {
      const fns = scriptedFunctions([503, 200]);
      const [retried, done0] = [await counter('order', 'retried'), await counter('order', 'done')];
      const worker = dispatch(inProcessInvoker(fns.record(['order-alpha']), signer), log, 1);
      const failedOnce = jobEvent(worker, 'failed', 'flaky-1');
      const done = jobEvent(worker, 'completed', 'flaky-1');
      await client.enqueue('order', { account: 'alpha', barTime: 9 }, { jobId: 'flaky-1' });
      const first = await failedOnce;
      expect(first.failedReason).toMatch(/order-alpha answered 503/);
      // Backoff is exponential from 1 s, so the retry waits in 'delayed' before it runs again.
      const job = await done;
      expect(job.returnvalue).toMatchObject({ handled: 9, call: 2 });
      expect(job.attemptsMade).toBe(2);
      expect(fns.calls.map((c) => c.attempt)).toEqual(['1', '2']);
      expect([await counter('order', 'retried'), await counter('order', 'done')]).toEqual([retried + 1, done0 + 1]);
    });

    it('answers an account without a function as a permanent failure', async () => {
      const worker = dispatch(inProcessInvoker({}, signer), log, 1);
      const failed = jobEvent(worker, 'failed', 'orphan');
      await client.enqueue('order', { account: 'nobody', barTime: 1 }, { jobId: 'orphan' });
      const job = await failed;
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/no function named order-nobody/);
    });

    it('waits for the running job when the client closes', async () => {
      const own = await openOn(backend, ns);
      let release!: () => void;
      const started = new Promise<void>((r) => (release = r));
      let finished = false;
      own.worker('order', async () => {
        release();
        await new Promise((r) => setTimeout(r, 400));
        finished = true;
        return { finished };
      });
      await own.enqueue('order', { account: 'alpha', barTime: 3 }, { jobId: 'slow-1' });
      await started;
      expect(finished).toBe(false);
      await own.close();
      expect(finished).toBe(true);
      const job = await client.queue('order').getJob('slow-1');
      expect(await job?.getState()).toBe('completed');
      expect(job?.returnvalue).toEqual({ finished: true });
    });

    it('closes within its grace period even when a job never finishes', async () => {
      const own = await openOn(backend, ns);
      let release!: () => void;
      const started = new Promise<void>((r) => (release = r));
      own.worker('order', () => {
        release();
        return new Promise(() => undefined); // hangs: a call with no deadline
      });
      await own.enqueue('order', { account: 'alpha', barTime: 4 }, { jobId: 'stuck-1' });
      await started;
      const t0 = performance.now();
      await own.close({ graceMs: 300 });
      expect(performance.now() - t0).toBeLessThan(5000);
      // Not completed: abandoned, so another worker takes it again once its lock expires.
      expect(await (await client.queue('order').getJob('stuck-1'))?.getState()).toBe('active');
    });

    it('leaves nothing open after close, so the process can exit on its own', async () => {
      // A child process: if close() left a socket open, it would never exit and this test times out.
      const script = `
        import { openQueueClient } from ${JSON.stringify(new URL('../../lib/queue/client.ts', import.meta.url).href)};
        const c = await openQueueClient({ redisUrl: process.env.Q_REDIS || undefined, databaseUrl: process.env.Q_DB, namespace: process.env.Q_NS, onError: (e) => { console.error(e); process.exitCode = 1; } });
        if (c.backend !== process.env.Q_BACKEND) throw new Error('wrong backend ' + c.backend);
        const w = c.worker('order', async () => 'ok');
        const done = new Promise((r) => w.on('completed', r));
        await c.enqueue('order', { account: 'alpha', barTime: 1 }, { jobId: 'exit-1' });
        await done;
        await c.close();
        console.log('closed');
      `;
      const env = { ...process.env, Q_REDIS: backend === 'redis' ? requireRedisUrl() : '', Q_DB: testDb.url, Q_NS: ns, Q_BACKEND: backend };
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env, timeout: 20_000 });
      expect(stdout.trim()).toBe('closed');
    });

    it("registers stack.yml's cron schedules as BullMQ job schedulers, idempotently, and drops the retired hedge one", async () => {
      const schedules = cronSchedules(loadStack());
      expect(schedules.map((s) => s.function)).toEqual(['tick', 'report', 'train']);
      // An installation upgraded from the version with a hedge function still has its scheduler.
      await client.queue('hedge').upsertJobScheduler('cron-hedge', { pattern: '15 * * * *', tz: 'UTC' }, { name: 'hedge', data: {} });
      expect(await client.queue('hedge').getJobSchedulersCount()).toBe(1);
      try {
        await registerSchedules(client, schedules);
        await registerSchedules(client, schedules); // a restart registers again: still one scheduler each
        for (const s of schedules) {
          const schedulers = await client.queue(s.function).getJobSchedulers();
          expect(schedulers).toHaveLength(1);
          const [sch] = schedulers;
          expect(sch).toMatchObject({ key: `cron-${s.function}`, pattern: s.schedule, tz: 'UTC' });
          // The next run is on the schedule's minute (UTC), and it is in the future.
          expect(new Date(sch!.next!).getUTCMinutes()).toBe(Number(s.schedule.split(' ')[0]));
          expect(sch!.next!).toBeGreaterThan(Date.now());
        }
        expect(await client.queue('hedge').getJobSchedulersCount()).toBe(0);
        expect(Object.values(await client.queue('hedge').getJobCounts()).every((n) => n === 0)).toBe(true);
      } finally {
        await client.queue('hedge').obliterate({ force: true });
      }
    });
  });
});

describe('an account created while the runtime runs', () => {
  let client: QueueClient;
  const ns = namespace();
  let stop: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    client = await openQueueClient({ databaseUrl: testDb.url, namespace: ns, onError: rethrowLater });
  });

  afterAll(async () => {
    await stop();
    await client?.close();
    await adminQuery(testDb.url, `drop schema if exists ${ns} cascade`);
  });

  it('gets its order function, over HTTP and for its queued order job, without a restart', async () => {
    const ctx = testContext(testDb.app.db, client, { clock: systemClock });
    // What `aether start` does: stack.yml's functions, the dispatcher on every queue, in-process.
    const gateway = createGateway(functionNames(loadStack()), ctx);
    const resolved: string[] = [];
    const invoke = inProcessInvoker(async (fn) => {
      const app = await gateway.resolve(fn);
      if (app) resolved.push(fn);
      return app;
    }, ctx);
    const workers = startDispatcher(client, JOB_QUEUES, invoke, log);
    stop = async () => void (await Promise.all(workers.map((w) => w.close())));
    const order = workers[JOB_QUEUES.indexOf('order')]!;
    const http = (path: string, init?: RequestInit) => gateway.http.request(path, init);

    const slug = randomSlug();
    // Before the account exists: no function, in the functions' error shape; its job is refused for good.
    const before = await http(`/function/order-${slug}/healthz`, { headers: { 'x-request-id': 'probe-1' } });
    expect(before.status).toBe(404);
    expect(await before.json()).toEqual({ code: 'ACCOUNT_NOT_FOUND', message: expect.stringContaining(slug), requestId: 'probe-1' });
    const early = jobEvent(order, 'failed', jobId('order', slug, 1));
    await client.enqueue('order', { account: slug, barTime: 1 }, { jobId: jobId('order', slug, 1) });
    expect((await early).failedReason).toMatch(new RegExp(`no function named order-${slug}`));

    // Created as the API or `aether accounts create` would, while everything keeps running.
    await testDb.app.db.transaction(async (tx) => {
      const a = await createAccount(tx, { slug, name: 'Added later', kind: 'other' }, null, systemClock);
      await seedAccount(tx, a.id, null, systemClock);
    });

    const health = await http(`/function/order-${slug}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ function: `order-${slug}` });
    // It is that account's order function: a job for another account is refused by it.
    const wrong = await http(`/function/order-${slug}`, jobRequest(ctx, `order-${slug}`, { account: 'company', barTime: 0 }));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'WRONG_ACCOUNT' });

    // Its order job goes to order-<slug>: the dispatcher reaches the function (whatever the job then decides).
    const barTime = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const id = jobId('order', slug, barTime);
    const settled = Promise.race([jobEvent(order, 'completed', id), jobEvent(order, 'failed', id)]);
    await client.enqueue('order', { account: slug, barTime }, { jobId: id });
    const job = await settled;
    expect(resolved).toContain(`order-${slug}`);
    expect(job.failedReason ?? '').not.toMatch(/no function named/);
    if (job.finishedOn && !job.failedReason) expect(job.returnvalue).toMatchObject({ account: slug });

    // Unknown names stay unknown; the fixed functions are there as before; no hedge function.
    for (const [path, code] of [[`/function/order-${randomSlug()}/healthz`, 'ACCOUNT_NOT_FOUND'], ['/function/hedge/healthz', 'FUNCTION_NOT_FOUND'], ['/function/order-Bad/healthz', 'ACCOUNT_NOT_FOUND']] as const) {
      const r = await http(path);
      expect(r.status, path).toBe(404);
      expect(((await r.json()) as { code: string }).code, path).toBe(code);
    }
    const api = await http('/function/api/healthz');
    expect(api.status).toBe(200);
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

  it('refuses a namespace that is neither a key prefix nor a schema name', async () => {
    await expect(openQueueClient({ databaseUrl: bare.url, namespace: 'a;drop', onError: () => undefined })).rejects.toBeInstanceOf(QueueBackendError);
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
