import { randomBytes } from 'node:crypto';
import type { Job, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../lib/accounts/accounts.ts';
import { seedAccount } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { jobFunctionPath, NONCE_HEADER, signJob, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER, verifyJob } from '../../lib/http/job-signature.ts';
import { inProcessInvoker, jobRequest, startDispatcher, type JobSigner } from '../../lib/queue/dispatcher.ts';
import { jobId } from '../../lib/queue/jobs.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createGateway } from '../../bin/gateway.ts';
import { call, expectError, rowCounts, startApi, type ApiHarness } from '../helpers/api.ts';
import { openQueueClient } from '../../lib/queue/client.ts';
import { describeWithRedis, randomSlug, requireRedisUrl } from '../helpers/queues.ts';

/**
 * Issue 9: only the holders of the job key (the dispatcher, the cron schedulers) run jobs. A call
 * that is unsigned, signed with another key, for another function or body, off the function's clock,
 * or a replay, is a 401 in the error shape and changes nothing: no row, no queued job.
 */
let h: ApiHarness;
let score: AetherApp;
const HOUR = 3_600_000;
const ACCOUNTS = ['alpha', 'beta', 'gamma'];
let barTime: number;
let body: string;

/** Every table's row count and every state count of the order queue: what a refused call must leave alone. */
const state = async () => ({ rows: await rowCounts(h), orderJobs: await h.queue.queue('order').getJobCounts() });

/** POST / on the score function with exactly these headers and body. */
const post = (headers: Record<string, string>, raw = body) => call(score, 'POST', '/', { raw, headers });
const signed = (over: { key?: Buffer; fn?: string; signedBody?: string; at?: number } = {}) =>
  signJob(over.key ?? h.ctx.jobKey, { method: 'POST', path: jobFunctionPath(over.fn ?? 'score'), body: over.signedBody ?? body }, over.at ?? h.clock.now());

beforeAll(async () => {
  h = await startApi();
  for (const slug of ACCOUNTS)
    await h.ctx.db.transaction(async (tx) => {
      const a = await createAccount(tx, { slug, name: slug, kind: 'other' }, null, h.clock);
      await seedAccount(tx, a.id, null, h.clock);
    });
  score = scoreApp(h.ctx);
  barTime = Math.floor(h.clock.now() / HOUR) * HOUR - HOUR; // the newest closed bar by the function's clock
  body = JSON.stringify({ barTime, pairs: ['BTC/USD'] });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('a job call the function refuses (401, nothing changes)', () => {
  it.each([
    ['unsigned', () => ({}), 'JOB_UNSIGNED'],
    ['without its nonce', () => Object.fromEntries(Object.entries(signed()).filter(([k]) => k !== NONCE_HEADER)), 'JOB_UNSIGNED'],
    ['signed with another key', () => signed({ key: randomBytes(32) }), 'JOB_SIGNATURE_INVALID'],
    ['signed for another function', () => signed({ fn: 'tick' }), 'JOB_SIGNATURE_INVALID'],
    ['signed for another body', () => signed({ signedBody: JSON.stringify({ barTime: barTime - HOUR, pairs: ['BTC/USD'] }) }), 'JOB_SIGNATURE_INVALID'],
    ['signed 61 s ago', () => signed({ at: h.clock.now() - SIGNATURE_WINDOW_MS - 1000 }), 'JOB_SIGNATURE_INVALID'],
    ['signed 61 s ahead', () => signed({ at: h.clock.now() + SIGNATURE_WINDOW_MS + 1000 }), 'JOB_SIGNATURE_INVALID'],
    ['with a malformed signature', () => ({ ...signed(), [SIGNATURE_HEADER]: 'zz' }), 'JOB_SIGNATURE_INVALID'],
    ['with a malformed timestamp', () => ({ ...signed(), [TIMESTAMP_HEADER]: '1e12' }), 'JOB_SIGNATURE_INVALID'],
  ] as const)('%s', async (_, headers, code) => {
    const before = await state();
    expectError(await post({ 'content-type': 'application/json', ...headers() }), 401, code);
    expect(await state()).toEqual(before);
  });
});

describe('a signed job call', () => {
  it('runs once; its replay is refused and changes nothing', async () => {
    const headers = { 'content-type': 'application/json', ...signed() };
    const before = await state();
    const ok = await post(headers);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ orderJobs: ACCOUNTS.length });
    for (const slug of ACCOUNTS) expect(await h.queue.queue('order').getJob(jobId('order', slug, barTime))).toBeDefined();
    const after = await state();
    expect(after.rows.job_signatures).toBe(before.rows.job_signatures! + 1);

    expectError(await post(headers), 401, 'JOB_REPLAYED');
    h.clock.advance(30_000); // later, still inside the window
    expectError(await post(headers), 401, 'JOB_REPLAYED');
    expect(await state()).toEqual(after);
    h.clock.advance(SIGNATURE_WINDOW_MS); // after it: stale, whatever was remembered
    expectError(await post(headers), 401, 'JOB_SIGNATURE_INVALID');
  });

  it('sent twice at once, runs once', async () => {
    const headers = { 'content-type': 'application/json', ...signed() };
    const statuses = (await Promise.all([post(headers), post(headers)])).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
  });

  it('with a bad body is a 400 that remembers nothing: only valid calls are claimed', async () => {
    const raw = JSON.stringify({ barTime: 'soon' });
    const before = await state();
    expectError(await post({ 'content-type': 'application/json', ...signed({ signedBody: raw }) }, raw), 400, 'VALIDATION_FAILED');
    expect(await state()).toEqual(before);
  });
});

describe('the embedded gateway and the dispatcher', () => {
  it('the gateway, which shares its listener with the API, refuses an unsigned job route', async () => {
    const gateway = createGateway(['score'], h.ctx);
    const before = await state();
    const r = await gateway.http.request(jobFunctionPath('score'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(r.status).toBe(401);
    expect(await r.json()).toMatchObject({ code: 'JOB_UNSIGNED' });
    expect(await state()).toEqual(before);
    const s = await gateway.http.request(jobFunctionPath('score'), jobRequest(h.ctx, 'score', { barTime, pairs: ['ETH/USD'] }));
    expect(s.status, await s.clone().text()).toBe(200);
  });

  it('the dispatcher signs: its job runs; a dispatcher with another key has its job rejected for good', async () => {
    const gateway = createGateway(['score'], h.ctx);
    const run = async (signer: JobSigner, id: string): Promise<Job> => {
      const [worker] = startDispatcher(h.queue, ['score'], inProcessInvoker(gateway.resolve, signer), h.ctx.logger, 1) as [Worker];
      try {
        const settled = new Promise<Job>((ok) => {
          const done = (job: Job | undefined) => job?.id === id && ok(job);
          worker.on('completed', done);
          worker.on('failed', done);
        });
        await h.queue.enqueue('score', { barTime, pairs: ['SOL/USD'] }, { jobId: id });
        return await settled;
      } finally {
        await worker.close();
      }
    };
    const good = await run(h.ctx, 'score-signed');
    expect(good.failedReason).toBeUndefined();
    expect(good.returnvalue).toMatchObject({ orderJobs: ACCOUNTS.length });
    const forged = await run({ jobKey: randomBytes(32), clock: h.ctx.clock }, 'score-forged');
    expect(forged.failedReason).toMatch(/answered 401.*JOB_SIGNATURE_INVALID/);
    expect(forged.attemptsMade).toBe(1); // a 4xx is final: no retry hammers the function
  });
});

describe('the cron path', () => {
  it('a scheduled job (a BullMQ job scheduler, as stack.yml\'s schedules become) reaches its function signed and runs', async () => {
    const gateway = createGateway(['report'], h.ctx);
    const [worker] = startDispatcher(h.queue, ['report'], inProcessInvoker(gateway.resolve, h.ctx), h.ctx.logger, 1) as [Worker];
    try {
      const ran = new Promise<Job>((ok, fail) => {
        worker.on('completed', (job: Job) => ok(job));
        worker.on('failed', (job: Job | undefined, err: Error) => fail(new Error(`${job?.id}: ${err.message}`)));
      });
      await h.queue.schedule('report', 'cron-report-test', '* * * * * *', {}); // every second (6-field pattern)
      const job = await ran;
      expect(job.returnvalue).toMatchObject({ failed: 0 });
    } finally {
      await h.queue.queue('report').removeJobScheduler('cron-report-test');
      await worker.close();
    }
  }, 30_000);
});

describeWithRedis()('with the queues on Redis (the cluster)', () => {
  it('a signature is claimed in Redis: a replay is refused on another replica, and no row is written', async () => {
    const queue = await openQueueClient({ redisUrl: requireRedisUrl(), databaseUrl: h.testDb.url, namespace: randomSlug(), onError: () => undefined });
    try {
      expect(queue.claimOnce).toBeTypeOf('function');
      const ctx = { ...h.ctx, queue };
      const [a, b] = [scoreApp(ctx), scoreApp(ctx)]; // two replicas of the function
      const raw = JSON.stringify({ barTime, pairs: ['SOL/USD'] });
      const headers = { 'content-type': 'application/json', ...signed({ signedBody: raw }) };
      const before = await rowCounts(h);
      const ok = await call(a, 'POST', '/', { raw, headers });
      expect(ok.status, ok.text).toBe(200);
      expectError(await call(b, 'POST', '/', { raw, headers }), 401, 'JOB_REPLAYED');
      expectError(await call(a, 'POST', '/', { raw, headers }), 401, 'JOB_REPLAYED');
      expect((await rowCounts(h)).job_signatures).toBe(before.job_signatures);
    } finally {
      await queue.queue('order').obliterate({ force: true });
      await queue.close();
    }
  });
});

describe('job-signature (pure)', () => {
  const key = randomBytes(32);
  const parts = { method: 'POST', path: '/function/tick', body: '{}' };
  const now = Date.parse('2026-01-05T12:00:00Z');
  const verify = (h: Record<string, string>, at = now) =>
    verifyJob(key, parts, { timestamp: h[TIMESTAMP_HEADER], nonce: h[NONCE_HEADER], signature: h[SIGNATURE_HEADER] }, at);

  it('accepts its own signature within ±60 s, and nothing else', () => {
    const h = signJob(key, parts, now);
    expect(verify(h)).toMatchObject({ ok: true, timestamp: now, signature: h[SIGNATURE_HEADER] });
    expect(verify(h, now + SIGNATURE_WINDOW_MS).ok).toBe(true);
    expect(verify(h, now - SIGNATURE_WINDOW_MS).ok).toBe(true);
    expect(verify(h, now + SIGNATURE_WINDOW_MS + 1)).toEqual({ ok: false, reason: 'outside-window' });
    expect(verifyJob(key, { ...parts, method: 'PUT' }, { timestamp: h[TIMESTAMP_HEADER], nonce: h[NONCE_HEADER], signature: h[SIGNATURE_HEADER] }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyJob(key, { ...parts, body: '{} ' }, { timestamp: h[TIMESTAMP_HEADER], nonce: h[NONCE_HEADER], signature: h[SIGNATURE_HEADER] }, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...h, [NONCE_HEADER]: 'a'.repeat(32) })).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verify({ ...h, [TIMESTAMP_HEADER]: String(now + 1) })).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('two calls with one body at one instant differ (the nonce): only a true replay repeats a signature', () => {
    expect(signJob(key, parts, now)[SIGNATURE_HEADER]).not.toBe(signJob(key, parts, now)[SIGNATURE_HEADER]);
  });

  it('a virtual clock signs and verifies as the wall clock does', () => {
    const clock = new VirtualClock(now);
    const init = jobRequest({ jobKey: key, clock }, 'tick', {});
    const headers = init.headers as Record<string, string>;
    expect(verifyJob(key, parts, { timestamp: headers[TIMESTAMP_HEADER], nonce: headers[NONCE_HEADER], signature: headers[SIGNATURE_HEADER] }, clock.now()).ok).toBe(true);
  });
});
