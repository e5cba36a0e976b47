import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/db/client.ts';
import type { AppContext } from '../../lib/context.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { createApp as apiApp } from '../../functions/api/handler.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as reportApp } from '../../functions/report/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { createApp as trainApp } from '../../functions/train/handler.ts';
import { testContext } from '../helpers/context.ts';
import { call, errorShape, expectError, rowCounts, startApi, type ApiHarness } from '../helpers/api.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

/** Each job function, with a body of the wrong types for its queue's schema. */
const FUNCTIONS: Array<{ name: string; build: (ctx: AppContext) => AetherApp; wrongTypes: Record<string, unknown> }> = [
  { name: 'tick', build: (ctx) => tickApp(ctx), wrongTypes: { scheduledAt: 'soon' } },
  { name: 'score', build: (ctx) => scoreApp(ctx), wrongTypes: { barTime: '2026-01-01', pairs: 'BTC/USD' } },
  { name: 'report', build: (ctx) => reportApp(ctx), wrongTypes: { day: 20260101 } },
  { name: 'train', build: (ctx) => trainApp(ctx), wrongTypes: { trigger: 'whenever' } },
  { name: 'order-company', build: (ctx) => orderApp(ctx, 'company'), wrongTypes: { account: 'company', barTime: 1.5 } },
];

const METRICS_TOKEN = 'm'.repeat(40);

describe.each(FUNCTIONS)('the $name function', ({ name, build, wrongTypes }) => {
  let app: AetherApp;
  beforeAll(() => {
    app = build({ ...h.ctx, config: { ...h.ctx.config, AETHER_METRICS_TOKEN: METRICS_TOKEN } });
  });
  const signed = (): { signer: AppContext; fn: string } => ({ signer: h.ctx, fn: name });

  it('GET /healthz → 200 with mode, database, queue and timescale', async () => {
    const r = await call(app, 'GET', '/healthz');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({
      status: 'ok',
      function: name,
      mode: 'embedded',
      database: 'ok',
      databaseDriver: 'pg',
      queue: 'ok',
      queueBackend: 'postgres',
      timescale: 'no',
      version: 'test',
    });
  });

  it('GET /metrics → Prometheus text with its request histogram', async () => {
    await call(app, 'GET', '/healthz');
    const r = await call(app, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.text).toContain('# TYPE aether_http_request_duration_seconds histogram');
    expect(r.text).toMatch(new RegExp(`aether_http_request_duration_seconds_count\\{[^}]*function="${name}"[^}]*route="/healthz"[^}]*\\} [1-9]`));
  });

  it.each([
    ['malformed JSON', { raw: '{"a":' }, 400, 'BAD_REQUEST'],
    ['an array body', { raw: '[1,2]' }, 400, 'VALIDATION_FAILED'],
    ['an unknown field', { json: { zzUnknown: 1 } }, 400, 'VALIDATION_FAILED'],
    ['wrong types', { json: wrongTypes }, 400, 'VALIDATION_FAILED'],
    ['a text/plain body', { raw: '{}', contentType: 'text/plain' }, 415, 'HTTP_415'],
  ] as const)('POST / (signed) with %s → %i in the error shape, nothing written', async (_, req, status, code) => {
    const before = await rowCounts(h);
    const r = await call(app, 'POST', '/', { ...req, signAs: signed() });
    expectError(r, status, code);
    expect(r.headers.get('x-request-id')).toBe(errorShape.parse(r.body).requestId);
    expect(await rowCounts(h)).toEqual(before);
  });

  it('POST / unsigned, even with a valid body → 401 in the error shape, nothing written', async () => {
    const before = await rowCounts(h);
    expectError(await call(app, 'POST', '/', { json: {} }), 401, 'JOB_UNSIGNED');
    expect(await rowCounts(h)).toEqual(before);
  });

  it('an unknown route → 404 in the error shape', async () => {
    expectError(await call(app, 'GET', '/nope'), 404, 'NOT_FOUND');
  });
});

describe('health with a dependency down', () => {
  it('GET /healthz → 503 degraded naming the database when it is unreachable', async () => {
    const dead = await openDatabase({ url: h.testDb.url, driver: 'pg', max: 1 });
    await dead.close();
    const app = apiApp(testContext(dead.db, h.queue));
    const r = await call(app, 'GET', '/healthz');
    expect(r.status, r.text).toBe(503);
    expect(r.body).toMatchObject({ status: 'degraded', database: 'error', queue: 'ok' });
  });

});

describe('request ids', () => {
  it('keeps a caller-supplied request id only when it is well-formed', async () => {
    const app = tickApp(h.ctx);
    const ok = await call(app, 'GET', '/nope', { headers: { 'x-request-id': 'trace-123_abc' } });
    expect(errorShape.parse(ok.body).requestId).toBe('trace-123_abc');
    const bad = await call(app, 'GET', '/nope', { headers: { 'x-request-id': 'evil value; with spaces' } });
    expect(errorShape.parse(bad.body).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
