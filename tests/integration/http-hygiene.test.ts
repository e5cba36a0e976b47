import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { parseConfig, type Config } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { hostAllowed, jsonTextFault, MAX_BODY_BYTES, urlFault } from '../../lib/http/hygiene.ts';
import { signJob } from '../../lib/http/job-signature.ts';
import { metricsTokenFor } from '../../lib/http/metrics-token.ts';
import { fullRetrain, trainJob } from '../../lib/ml/train-job.ts';
import { createApp as apiApp } from '../../functions/api/handler.ts';
import { createApp as reportApp } from '../../functions/report/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { createApp as trainApp } from '../../functions/train/handler.ts';
import { call, errorShape, expectError, rowCounts, startApi, type ApiHarness } from '../helpers/api.ts';

/**
 * HTTP hygiene every function gets from createFunctionApp (lib/http/hygiene.ts), /metrics behind its
 * token, and the job functions on a fresh install (no users, no accounts, no candles): never a 5xx.
 */

const METRICS_TOKEN = 'metrics-token-'.padEnd(48, 'x');
let h: ApiHarness;
let api: AetherApp;

/** The harness context with `config` changed: each app reads its configuration when it is built. */
const withConfig = (patch: Partial<Config>): AppContext => ({ ...h.ctx, config: { ...h.ctx.config, ...patch } });

beforeAll(async () => {
  h = await startApi();
  api = apiApp(withConfig({ AETHER_METRICS_TOKEN: METRICS_TOKEN }));
});
afterAll(async () => {
  await h?.close();
});

const get = (app: AetherApp, url: string, headers: Record<string, string> = {}) => app.request(url, { headers });

describe('security headers', () => {
  const expectSecure = (res: Response): void => {
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) expect(csp, csp).toContain(d);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  };

  it('are on every answer: a 200, a 404, a validation 400, a 401 and an error shaped by the app', async () => {
    const answers = await Promise.all([
      get(api, '/healthz'),
      get(api, '/nope'),
      get(api, '/audit?limit=0'),
      get(api, '/me'),
      get(api, '/accounts/%00'),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 404, 400, 401, 400]);
    for (const r of answers) expectSecure(r);
  });

  it('the job functions carry them too', async () => {
    for (const app of [trainApp(h.ctx), tickApp(h.ctx)]) expectSecure(await get(app, '/healthz'));
  });

  it('HSTS only over TLS, or in the cluster (whose ingress terminates TLS)', async () => {
    expect((await get(api, 'http://localhost/healthz')).headers.get('strict-transport-security')).toBeNull();
    expect((await get(api, 'https://localhost/healthz')).headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}; includeSubDomains$/);
    const cluster = apiApp(withConfig({ mode: 'cluster' }));
    expect((await get(cluster, 'http://10.1.2.3:8080/healthz')).headers.get('strict-transport-security')).toMatch(/^max-age=/);
  });
});

describe('request body limit', () => {
  const tooBig = JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(MAX_BODY_BYTES) });

  it('a body over 1 MiB with its content-length → 413 in the error shape, nothing written', async () => {
    const before = await rowCounts(h);
    const r = await call(api, 'POST', '/auth/login', { raw: tooBig });
    expectError(r, 413, 'PAYLOAD_TOO_LARGE');
    expect(await rowCounts(h)).toEqual(before);
  });

  it('a streamed body without a content-length is cut off at the limit → 413', async () => {
    const bytes = new TextEncoder().encode(tooBig);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
        controller.close();
      },
    });
    const res = await api.request('/auth/login', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(errorShape.parse(await res.json()).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a body just under the limit is read (and judged by the route: here a 400, not a 413)', async () => {
    const r = await call(api, 'POST', '/auth/login', { raw: JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(MAX_BODY_BYTES - 100) }) });
    expect(r.status, r.text).toBe(400);
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  it('embedded: loopback names and IP literals pass, any other name → 421 in the error shape', async () => {
    for (const url of ['http://localhost/healthz', 'http://127.0.0.1:8080/healthz', 'http://[::1]:8080/healthz', 'http://192.168.1.20:8080/healthz'])
      expect((await get(api, url)).status, url).toBe(200);
    for (const url of ['http://evil.example/healthz', 'http://localhost.evil.example/healthz', 'http://127.0.0.1.nip.io/healthz']) {
      const res = await get(api, url);
      expect(res.status, url).toBe(421);
      expect(errorShape.parse(await res.json()).code).toBe('MISDIRECTED_REQUEST');
    }
  });

  it('the configured public host passes, in both modes', async () => {
    const config = parseConfig({ AETHER_HOME: '/nonexistent', AETHER_ALLOWED_HOSTS: 'Aether.Example.com, ops.example.com' });
    expect(config.AETHER_ALLOWED_HOSTS).toEqual(['aether.example.com', 'ops.example.com']);
    const app = apiApp(withConfig({ AETHER_ALLOWED_HOSTS: config.AETHER_ALLOWED_HOSTS }));
    expect((await get(app, 'https://aether.example.com/healthz')).status).toBe(200);
    expect((await get(app, 'https://evil.example.com/healthz')).status).toBe(421);
    expect(hostAllowed('aether.example.com', { mode: 'cluster', AETHER_ALLOWED_HOSTS: config.AETHER_ALLOWED_HOSTS })).toBe(true);
  });

  it('cluster: in-cluster service names pass; with hosts configured, other names do not; unconfigured, the ingress decides', () => {
    const configured = { mode: 'cluster' as const, AETHER_ALLOWED_HOSTS: ['aether.example.com'] };
    expect(hostAllowed('gateway.openfaas.svc.cluster.local', configured)).toBe(true);
    expect(hostAllowed('api.aether.svc', configured)).toBe(true);
    expect(hostAllowed('10.2.0.7', configured)).toBe(true);
    expect(hostAllowed('evil.example', configured)).toBe(false);
    expect(hostAllowed('evil.example', { mode: 'cluster', AETHER_ALLOWED_HOSTS: [] })).toBe(true);
    expect(hostAllowed('evil.example', { mode: 'embedded', AETHER_ALLOWED_HOSTS: ['*'] })).toBe(true);
  });

  it('a bad AETHER_ALLOWED_HOSTS stops start-up, naming the variable', () => {
    expect(() => parseConfig({ AETHER_ALLOWED_HOSTS: 'aether.example.com:443' })).toThrow(/AETHER_ALLOWED_HOSTS/);
    expect(() => parseConfig({ AETHER_ALLOWED_HOSTS: 'http://x' })).toThrow(/AETHER_ALLOWED_HOSTS/);
  });
});

describe('/metrics needs the metrics token', () => {
  it.each([
    ['no Authorization', {}],
    ['a wrong token', { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}y` }],
    ['a token one character short', { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` }],
    ['the token as Basic', { authorization: `Basic ${METRICS_TOKEN}` }],
    ['an admin session shape', { authorization: 'Bearer not-the-metrics-token' }],
  ])('%s → 401 in the error shape, no series', async (_, headers) => {
    const r = await call(api, 'GET', '/metrics', { headers });
    expectError(r, 401, 'UNAUTHENTICATED');
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(r.text).not.toContain('aether_');
  });

  it('the right token → 200 with the Prometheus exposition', async () => {
    const r = await call(api, 'GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.text).toContain('# TYPE aether_http_request_duration_seconds histogram');
  });

  it('with no token configured (a cluster without the secret) every scrape is refused', async () => {
    const app = apiApp(withConfig({ AETHER_METRICS_TOKEN: undefined }));
    expectError(await call(app, 'GET', '/metrics'), 401);
    expectError(await call(app, 'GET', '/metrics', { headers: { authorization: 'Bearer ' } }), 401);
  });

  it('embedded: generated once into $AETHER_HOME/metrics.token (0600) and kept; the variable wins; a cluster never generates one', () => {
    const home = mkdtempSync(join(tmpdir(), 'aether-metrics-'));
    try {
      const config = parseConfig({ AETHER_HOME: home });
      const token = metricsTokenFor(config);
      expect(token).toMatch(/^[\w-]{43}$/);
      expect(statSync(join(home, 'metrics.token')).mode & 0o777).toBe(0o600);
      expect(metricsTokenFor(config)).toBe(token);
      expect(metricsTokenFor(parseConfig({ AETHER_HOME: home, AETHER_METRICS_TOKEN: METRICS_TOKEN }))).toBe(METRICS_TOKEN);
      expect(metricsTokenFor(parseConfig({ AETHER_HOME: join(home, 'cluster'), DATABASE_URL: 'postgres://db/aether' }))).toBeUndefined();
      expect(() => parseConfig({ AETHER_METRICS_TOKEN: 'short' })).toThrow(/AETHER_METRICS_TOKEN/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('NUL and control characters: 400 before anything is read or written', () => {
  it.each([
    '/accounts/%00/settings',
    '/accounts/company%00/reports/risk',
    '/accounts/%00',
    '/audit?action=%00',
    '/audit?action=a%1bb',
    '/accounts/company/trades?pair=BTC%00/USD',
    '/accounts/%E0%A4%A/settings',
    '/audit?zz%00=1',
  ])('GET %s → 400, anonymous and with a bearer token', async (path) => {
    const before = await rowCounts(h);
    for (const token of [undefined, 'a'.repeat(43)]) {
      const r = await call(api, 'GET', path, { token });
      expect(r.status, `${path}: ${r.text}`).toBe(400);
      expect(['BAD_URL', 'VALIDATION_FAILED']).toContain(errorShape.parse(r.body).code);
    }
    expect(await rowCounts(h)).toEqual(before);
  });

  it('a NUL in a JSON string of a valid first-admin request → 400, no user created, the onboarding token still works', async () => {
    const token = await issueOnboardingToken(h.ctx.db);
    expect(token).toBeTruthy();
    const before = await rowCounts(h);
    const admin = { token, email: 'nul@example.com', name: 'Nul\u0000Admin', password: 'a long enough password' };
    expectError(await call(api, 'POST', '/onboarding/admin', { json: admin }), 400, 'VALIDATION_FAILED');
    expectError(await call(api, 'POST', '/onboarding/admin', { json: { ...admin, name: 'Esc\u001b[31mAdmin' } }), 400, 'VALIDATION_FAILED');
    expectError(await call(api, 'POST', '/onboarding/admin', { json: { ...admin, name: 'Ok', ['k\u0000']: 1 } }), 400, 'VALIDATION_FAILED');
    expect(await rowCounts(h)).toEqual(before);
    const ok = await call(api, 'POST', '/onboarding/admin', { json: { ...admin, name: 'Ok Admin' } });
    expect(ok.status, ok.text).toBe(201);
  });

  it('a job function refuses a NUL in its URL the same way', async () => {
    const r = await call(trainApp(h.ctx), 'POST', '/%00', { json: {} });
    expectError(r, 400, 'BAD_URL');
  });

  it('the checks themselves', () => {
    expect(urlFault('http://localhost/accounts/company/trades?pair=BTC%2FUSD&limit=5')).toBeNull();
    expect(urlFault('http://localhost/a%20b?q=caf%C3%A9+x')).toBeNull();
    expect(urlFault('http://localhost/a?b=%0A')).toMatch(/control/);
    expect(urlFault('http://localhost/a?b=%7F')).toMatch(/control/);
    expect(urlFault('http://localhost/a%ZZ')).toMatch(/percent/);
    expect(jsonTextFault('{"note":"line one\\nline two\\ttabbed"}')).toBeNull();
    expect(jsonTextFault('{"a":"\\\\u0000 is text here"}')).toBeNull(); // an escaped backslash, then the letters u0000
    expect(jsonTextFault('{"a":"\\u0000"}')).toMatch(/control/);
    expect(jsonTextFault('{"a":["ok",{"b":"\\u007F"}]}')).toMatch(/control/);
    expect(jsonTextFault('{"a":"\\u0000"')).toBeNull(); // malformed JSON: the validator's 400
  });
});

describe('the job functions on a fresh install (no accounts or candles): an answer, never a 5xx', () => {
  /** Row counts but for job_signatures, where every accepted signed call leaves its signature (replay guard). */
  const counts = async () => {
    const { job_signatures: _, ...rest } = await rowCounts(h);
    return rest;
  };
  const post = async (app: AetherApp, fn: string, body: unknown) => {
    const text = JSON.stringify(body);
    const headers = { 'content-type': 'application/json', ...signJob(h.ctx.jobKey, { method: 'POST', path: `/function/${fn}`, body: text }, h.ctx.clock.now()) };
    const res = await app.request('/', { method: 'POST', body: text, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('train: nothing to train on yet → 200 with kind none and the reason, no training run written', async () => {
    const before = await counts();
    for (const trigger of ['manual', 'schedule', 'drift'] as const) {
      const r = await post(trainApp(h.ctx), 'train', { trigger });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.training).toMatchObject({ kind: 'none', run: null, version: null, promoted: false, reason: 'no traded pairs: nothing to train on' });
    }
    expect(await counts()).toEqual(before);
  });

  it('train with traded pairs but no stored candles, or too few: kind none with "too little history", nothing written', async () => {
    const before = await rowCounts(h);
    const none = await trainJob(h.ctx.db, h.ctx.clock, 'manual', ['BTC/USD', 'ETH/USD']);
    expect(none).toMatchObject({ kind: 'none', run: null, rows: 0 });
    expect(none.reason).toMatch(/^too little history to cross-validate: 0 labelled rows/);
    const scheduled = await fullRetrain(h.ctx.db, h.ctx.clock, 'schedule', ['BTC/USD']);
    expect(scheduled.kind).toBe('none');
    expect(await rowCounts(h)).toEqual(before);
  });

  it('report, tick and score: 2xx (or a 4xx for a bar that may not be scored), never a 5xx', async () => {
    const report = await post(reportApp(h.ctx), 'report', {});
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const tick = await post(tickApp(h.ctx), 'tick', {});
    expect(tick.status, JSON.stringify(tick.body)).toBe(200);
    expect(tick.body).toMatchObject({ pairs: [], scored: null });
    const closedBar = Math.floor(h.ctx.clock.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const score = await post(scoreApp(h.ctx), 'score', { barTime: closedBar, pairs: ['BTC/USD'] });
    expect(score.status, JSON.stringify(score.body)).toBe(200);
    expect(score.body).toMatchObject({ signals: [{ pair: 'BTC/USD', probUp: null }], orderJobs: 0 });
    const future = await post(scoreApp(h.ctx), 'score', { barTime: closedBar + 7_200_000, pairs: ['BTC/USD'] });
    expect(future.status, JSON.stringify(future.body)).toBeGreaterThanOrEqual(400);
    expect(future.status).toBeLessThan(500);
  });
});
