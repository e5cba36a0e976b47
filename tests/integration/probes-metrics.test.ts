import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/db/client.ts';
import type { AppContext } from '../../lib/context.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { createJobFunction } from '../../lib/http/job-function.ts';
import { createApp as reportApp } from '../../functions/report/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { openQueueClient } from '../../lib/queue/client.ts';
import { testContext } from '../helpers/context.ts';
import { call, startApi, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

const METRICS_TOKEN = 'p'.repeat(40);

describe('probes', () => {
  it('GET /livez and /readyz → 200 on every kind of function while its dependencies answer', async () => {
    for (const app of [h.app, tickApp(h.ctx), reportApp(h.ctx)]) {
      const live = await call(app, 'GET', '/livez');
      expect(live.status, live.text).toBe(200);
      expect(live.body).toMatchObject({ status: 'ok' });
      const ready = await call(app, 'GET', '/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', database: 'ok', queue: 'ok' });
    }
  });

  it('with the database and the queue down, /livez stays 200 while /readyz → 503 naming both', async () => {
    const dead = await openDatabase({ url: h.testDb.url, driver: 'pg', max: 1 });
    const deadQueue = await openQueueClient({ databaseUrl: h.testDb.url, onError: () => {} });
    await dead.close();
    await deadQueue.close();
    const app = tickApp(testContext(dead.db, deadQueue));
    const live = await call(app, 'GET', '/livez');
    expect(live.status, live.text).toBe(200);
    expect(live.body).toEqual({ status: 'ok', function: 'tick' });
    const ready = await call(app, 'GET', '/readyz');
    expect(ready.status, ready.text).toBe(503);
    expect(ready.body).toMatchObject({ status: 'not-ready', function: 'tick', database: 'error', queue: 'error' });
  });

  it('documents both in the OpenAPI document', async () => {
    const doc = (await call(h.app, 'GET', '/openapi.json')).body as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/livez', '/readyz']));
  });
});

describe('job metrics recorded by the function itself', () => {
  const metricsOf = async (app: ReturnType<typeof createJobFunction>) => {
    const r = await call(app, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(r.status).toBe(200);
    return r.text;
  };
  const count = (text: string, fn: string, outcome: string): number => {
    const m = new RegExp(`^aether_function_jobs_total\\{function="${fn}",job="report",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
    if (!m) throw new Error(`no aether_function_jobs_total series for ${fn}/${outcome}`);
    return Number(m[1]);
  };

  it('counts done, rejected and failed jobs with their durations on the function’s /metrics', async () => {
    const fn = `metrics-probe-${Date.now()}`;
    let next: 'done' | 'rejected' | 'failed' = 'done';
    const ctx: AppContext = { ...h.ctx, config: { ...h.ctx.config, AETHER_METRICS_TOKEN: METRICS_TOKEN } };
    const app = createJobFunction(fn, 'report', ctx, async () => {
      if (next === 'rejected') throw new HttpError(422, 'BAR_NOT_TRADABLE', 'not this bar');
      if (next === 'failed') throw new Error('boom');
      return { ok: true };
    });
    const before = await metricsOf(app);
    for (const outcome of ['done', 'rejected', 'failed'] as const) expect(count(before, fn, outcome)).toBe(0);

    const statuses: number[] = [];
    for (const outcome of ['done', 'done', 'rejected', 'failed'] as const) {
      next = outcome;
      statuses.push((await call(app, 'POST', '/', { json: {}, signAs: { signer: h.ctx, fn } })).status);
    }
    expect(statuses).toEqual([200, 200, 422, 500]);

    const after = await metricsOf(app);
    expect([count(after, fn, 'done'), count(after, fn, 'rejected'), count(after, fn, 'failed')]).toEqual([2, 1, 1]);
    expect(after).toContain('# TYPE aether_function_job_duration_seconds histogram');
    expect(after).toMatch(new RegExp(`^aether_function_job_duration_seconds_count\\{function="${fn}",job="report",outcome="done"\\} 2$`, 'm'));
  });

  it('an unsigned call is no job: nothing is counted', async () => {
    const fn = `metrics-unsigned-${Date.now()}`;
    const app = createJobFunction(fn, 'report', { ...h.ctx, config: { ...h.ctx.config, AETHER_METRICS_TOKEN: METRICS_TOKEN } }, async () => ({}));
    expect((await call(app, 'POST', '/', { json: {} })).status).toBe(401);
    const text = await metricsOf(app);
    expect(count(text, fn, 'done') + count(text, fn, 'rejected') + count(text, fn, 'failed')).toBe(0);
  });
});
