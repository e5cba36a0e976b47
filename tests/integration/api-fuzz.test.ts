import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { jsonTextFault } from '../../lib/http/hygiene.ts';
import { signJob } from '../../lib/http/job-signature.ts';
import { BACKOFF } from '../../lib/accounts/login-throttle.ts';
import { jobSchemas, type JobKind } from '../../lib/queue/jobs.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as reportApp } from '../../functions/report/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { createApp as trainApp } from '../../functions/train/handler.ts';
import { rng } from '../../lib/ml/math.ts';
import { call, errorShape, login, loginAdmin, onboard, rowCounts, startApi, type Admin } from '../helpers/api.ts';
import { operationsOf, type JsonSchema, type OpenApiDoc, type Op, type Parameter } from '../helpers/openapi.ts';

/**
 * Hostile input to every operation of the OpenAPI document built from the real app (and to every job
 * function), as anonymous, a viewer and an admin: NUL and control characters, very long strings,
 * unicode, path traversal, wrong types, negative and huge numbers, invalid dates, missing and extra
 * fields, malformed JSON, empty bodies and wrong content types, in the path, the query and the body.
 * Never a 5xx; every 4xx in the error shape; anonymous callers get 401 from protected operations; a
 * viewer writes nothing (row counts of every table and the audit head, before and after).
 * Deterministic: the cases are drawn with a seeded generator (FUZZ_SEED overrides it to explore).
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_260_105);
/** Cases per operation for each caller: admins get furthest, so they get the most. */
const BUDGET = { admin: 50, viewer: 25, anonymous: 15 } as const;

// Kraken must be unreachable here: no fuzzed call may leave the machine.
const h = await startApi(() => ({ config: parseConfig({ AETHER_HOME: '/nonexistent', KRAKEN_API_URL: 'http://127.0.0.1:9', AETHER_METRICS_TOKEN: 'f'.repeat(40) }) }));
const doc = (await call(h.app, 'GET', '/openapi.json')).body as OpenApiDoc;

const VIEWER = { email: 'fuzz.viewer@example.com', name: 'Fuzz Viewer', password: 'fuzz viewer password' };
let admin: Admin;
let companyId = '';

beforeAll(async () => {
  const o = await onboard(h);
  admin = o.admin;
  companyId = o.accounts.company!;
  const r = await call(h.app, 'POST', '/users', { token: o.token, json: { ...VIEWER, role: 'viewer', accountIds: [companyId] } });
  expect(r.status, r.text).toBe(201);
});
afterAll(async () => {
  await h.close();
});

// ---------- values ----------

function sampleOf<T>(items: readonly T[], n: number, random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

/** Strings that have broken servers: control characters, length, unicode, traversal, injection, numbers and dates that are not. */
const HOSTILE_TEXT = [
  '\u0000',
  'a\u0000b',
  '\u001b[31mred',
  'line\r\nX-Injected: 1',
  '\u007f',
  '\t',
  'x'.repeat(5000),
  'üñí©ødé ✓ 😀 漢字',
  '\u202etxt.exe',
  '\ufeffbom',
  '\ud800',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/',
  '%',
  '%00',
  "' OR 1=1 --",
  '"; drop table users; --',
  '${jndi:ldap://127.0.0.1/x}',
  '<script>alert(1)</script>',
  '',
  ' ',
  '-1',
  '0',
  '-0',
  '1.5',
  '1e309',
  '-1e309',
  '9007199254740993',
  '99999999999999999999999999999999',
  'NaN',
  'Infinity',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  '2024-02-31',
  '2023-02-29',
  '2024-13-01',
  '0000-01-01',
  '2024-02-30T00:00:00Z',
  '2024-01-01T25:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '+275760-09-13T00:00:00Z',
  '1970-01-01T00:00:00+99:99',
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  'BTC/USD\u0000',
  'company\u0000',
  'COMPANY',
  'company/../director-1',
];

/** Already percent-encoded forms that encodeURIComponent cannot produce. */
const RAW_URL_PIECES = ['%00', '%E0%A4%A', '%ff', '%ED%A0%80', '%2e%2e', '..', '%2F', '%u0000', '%', '%25%30%30'];

const enc = (s: string): string => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate: its (invalid) UTF-8 bytes
  }
};

const HOSTILE_JSON: unknown[] = [
  ...HOSTILE_TEXT,
  'y'.repeat(100_000),
  -1,
  0,
  1.5,
  -1e308,
  1e308,
  2 ** 53 + 1,
  -(2 ** 63),
  true,
  false,
  null,
  [],
  {},
  [null],
  ['x'.repeat(1000)],
  { $gt: '' },
  JSON.parse('{"__proto__":{"role":"admin"}}') as unknown,
  Array.from({ length: 2000 }, (_, i) => i),
];

/** A plausible value for a schema: the base each body case changes one thing in. */
function plausible(s0: JsonSchema, resolve: (s: JsonSchema) => JsonSchema, depth = 0): unknown {
  const s = resolve(s0);
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const alt = (s.oneOf ?? s.anyOf)?.[0];
  if (alt) return plausible(alt, resolve, depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object':
      return depth > 4 ? {} : Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, plausible(v, resolve, depth + 1)]));
    case 'array':
      return s.items ? Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => plausible(s.items!, resolve, depth + 1)) : [];
    case 'string':
      if (s.format === 'email') return 'fuzz.target@example.com';
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'date-time') return '2026-01-05T11:00:00.000Z';
      if (s.format === 'date') return '2026-01-04';
      return 'f'.repeat(Math.max(s.minLength ?? 0, 16));
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** A valid value for a path parameter, so the part under test is what answers. */
function validPathValue(p: Parameter, resolve: (s: JsonSchema) => JsonSchema): string {
  if (p.name === 'account') return 'company';
  const s = resolve(p.schema);
  if (s.format === 'uuid') return '00000000-0000-4000-8000-00000000f022'; // nobody: a 404, never a real user
  if (s.enum?.length) return String(s.enum[0]);
  if (s.example !== undefined) return String(s.example);
  throw new Error(`no valid value for path parameter ${p.name}; teach the fuzzer`);
}

// ---------- cases ----------

interface Case {
  name: string;
  /** The URL carries something hostile (a 400 may come before authentication). */
  url: boolean;
  path: string;
  query: string;
  body?: string | Uint8Array<ArrayBuffer>;
  contentType?: string;
}

function casesOf(o: Op): Case[] {
  const valid = Object.fromEntries(o.pathParams.map((p) => [p.name, enc(validPathValue(p, o.resolve))]));
  const pathWith = (over: Record<string, string> = {}): string => o.path.replace(/\{([^}]+)\}/g, (_, n: string) => over[n] ?? valid[n]!);
  const base = o.body ? plausible(o.body, o.resolve) : undefined;
  const json = base === undefined ? undefined : JSON.stringify(base);
  const plain = (name: string, c: Partial<Case>): Case => ({ name, url: false, path: pathWith(), query: '', body: json, contentType: json === undefined ? undefined : 'application/json', ...c });
  const cases: Case[] = [plain('as documented', {})];

  for (const p of o.pathParams) {
    for (const v of HOSTILE_TEXT) cases.push(plain(`path ${p.name}=${JSON.stringify(v.slice(0, 40))}`, { url: true, path: pathWith({ [p.name]: enc(v) }) }));
    for (const v of RAW_URL_PIECES) cases.push(plain(`path ${p.name} raw ${v}`, { url: true, path: pathWith({ [p.name]: v }) }));
  }
  const queryNames = [...o.query.map((p) => p.name), 'zzUnknown'];
  for (const name of queryNames) {
    for (const v of HOSTILE_TEXT) cases.push(plain(`query ${name}=${JSON.stringify(v.slice(0, 40))}`, { url: true, query: `${name}=${enc(v)}` }));
    for (const v of RAW_URL_PIECES) cases.push(plain(`query ${name} raw ${v}`, { url: true, query: `${name}=${v}` }));
    cases.push(plain(`query ${name} repeated`, { url: true, query: `${name}=1&${name}=2` }));
  }
  cases.push(plain('query key NUL', { url: true, query: '%00=1' }), plain('query without a key', { url: true, query: '=1&&=' }));

  if (o.body && base !== null && typeof base === 'object' && !Array.isArray(base)) {
    const fields = Object.keys(base);
    for (const f of fields) {
      for (const v of HOSTILE_JSON) cases.push(plain(`body ${f}=${JSON.stringify(v)?.slice(0, 40)}`, { body: JSON.stringify({ ...base, [f]: v }) }));
      const { [f]: _, ...rest } = base as Record<string, unknown>;
      cases.push(plain(`body without ${f}`, { body: JSON.stringify(rest) }));
    }
    cases.push(plain('body with an extra field', { body: JSON.stringify({ ...base, zzUnknown: 1 }) }));
    cases.push(plain('body with a NUL key', { body: JSON.stringify({ ...base, ['k\u0000']: 1 }) }));
  }
  // Bodies every operation gets, those without a documented body too.
  const raws: Array<[string, string | Uint8Array<ArrayBuffer>, string | undefined]> = [
    ['malformed JSON', '{"a":', 'application/json'],
    ['empty body', '', 'application/json'],
    ['JSON null', 'null', 'application/json'],
    ['a JSON array', '[]', 'application/json'],
    ['a JSON string', '"x"', 'application/json'],
    ['a huge exponent', '1e999', 'application/json'],
    ['duplicate keys', '{"a":1,"a":2}', 'application/json'],
    ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`, 'application/json'],
    ['a __proto__ key', '{"__proto__":{"role":"admin"}}', 'application/json'],
    ['a BOM before JSON', `\ufeff${json ?? '{}'}`, 'application/json'],
    ['invalid UTF-8', new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'application/json'],
    ['an escaped NUL', '{"a":"\\u0000"}', 'application/json'],
    ['2 MiB', JSON.stringify({ a: 'z'.repeat(2 * 1024 * 1024) }), 'application/json'],
    ['text/plain', json ?? '{}', 'text/plain'],
    ['a form', 'a=1&b=2', 'application/x-www-form-urlencoded'],
    ['multipart', '--x\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n', 'multipart/form-data; boundary=x'],
    ['JSON as UTF-16', json ?? '{}', 'application/json; charset=utf-16'],
    ['a content-type parameter bomb', json ?? '{}', `application/json; ${'a=b;'.repeat(500)}`],
    ['no content-type', json ?? '{}', undefined],
  ];
  for (const [name, body, contentType] of raws) cases.push(plain(name, { body, contentType }));
  return cases;
}

// ---------- callers and checks ----------

type Caller = keyof typeof BUDGET;

/** Row counts of every table and the audit head: what a viewer must leave as it found it. */
async function fingerprint(): Promise<string> {
  const counts = await rowCounts(h);
  const { rows } = await h.testDb.owner.query<{ hash: string }>('select hash from audit_log order by id desc limit 1');
  return JSON.stringify({ counts, head: rows[0]?.hash ?? null });
}

/** Cases the HTTP hygiene or the parameter check refuse before authentication (no I/O): a 400 to anyone. */
const early = (c: Case): boolean => c.url || (typeof c.body === 'string' && jsonTextFault(c.body) !== null);
/** A query that leaves out a required parameter: the query is judged before authentication too. */
const lacksQuery = (o: Op, c: Case): boolean => o.query.some((p) => p.required && !new URLSearchParams(c.query).has(p.name));

/** Routes where any user may change their own session (log out, their password, their TOTP). */
const SELF_SERVICE = /^[A-Z]+ \/(auth|me)(\/|$)/;
/** Documented 4xx answers with a domain body instead of the error shape. */
const NOT_ERROR_SHAPED = new Set(['GET /audit/verify 409']);

async function send(app: AetherApp, method: string, c: Case, headers: Record<string, string>): Promise<{ status: number; text: string; json: unknown }> {
  const h2: Record<string, string> = { ...headers };
  if (c.contentType) h2['content-type'] = c.contentType;
  const hasBody = c.body !== undefined && method !== 'GET' && method !== 'HEAD';
  const res = await app.request(`${c.path}${c.query ? `?${c.query}` : ''}`, { method, headers: h2, body: hasBody ? c.body : undefined });
  const text = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('json')) json = JSON.parse(text);
  return { status: res.status, text, json };
}

const sessions: Partial<Record<'viewer' | 'admin', string>> = {};
/**
 * The caller's session, logged in again only when an operation ended it (logout, a password change):
 * logins hash passwords, the slowest thing here. A quiet hour first, so the failed logins fuzzing
 * leaves behind throttle no one.
 */
async function session(who: 'viewer' | 'admin'): Promise<string> {
  const held = sessions[who];
  if (held && (await call(h.app, 'GET', '/me', { token: held })).status === 200) return held;
  h.clock.advance(BACKOFF.forgetAfterMs + 1);
  return (sessions[who] = who === 'admin' ? await loginAdmin(h, admin) : await login(h, VIEWER.email, VIEWER.password));
}

const ops = operationsOf(doc);
const random = rng(SEED);
// Drawn once, at collection, so the cases are the same on every run with the same seed.
const plan = ops.map((o) => {
  const all = casesOf(o);
  // The documented request always runs; the rest is a seeded sample.
  const pick = (n: number) => [all[0]!, ...sampleOf(all.slice(1), n - 1, random)];
  return { o, cases: { anonymous: pick(BUDGET.anonymous), viewer: pick(BUDGET.viewer), admin: pick(BUDGET.admin) } };
});

describe(`hostile input to every operation of the api (seed ${SEED})`, () => {
  it('covers every documented operation', () => {
    expect(ops.length).toBeGreaterThanOrEqual(20);
    expect(plan.every((p) => p.cases.admin.length > 1)).toBe(true);
  });

  it.each(plan.map((p) => [p.o.key, p] as const))('%s', async (_, { o, cases }) => {
    const tokens: Record<Caller, string | undefined> = { anonymous: undefined, viewer: await session('viewer'), admin: await session('admin') };
    const failures: string[] = [];
    for (const caller of ['anonymous', 'viewer', 'admin'] as const) {
      const token = tokens[caller];
      // Judged over the viewer's whole batch (a fingerprint per call would double the run time).
      const watchWrites = caller === 'viewer' && o.secured && !SELF_SERVICE.test(o.key);
      const before = watchWrites ? await fingerprint() : '';
      const answers: string[] = [];
      for (const c of cases[caller]) {
        const r = await send(h.app, o.method, c, token ? { authorization: `Bearer ${token}` } : {});
        const where = `${caller} ${o.key} [${c.name}] → ${r.status} ${r.text.slice(0, 200)}`;
        answers.push(where);
        if (r.status >= 500) failures.push(`5xx: ${where}`);
        if (r.status >= 400 && !NOT_ERROR_SHAPED.has(`${o.key} ${r.status}`) && !errorShape.safeParse(r.json).success) failures.push(`not the error shape: ${where}`);
        // A URL the parser normalises away (`..`, an empty segment) is another route's 404.
        if (caller === 'anonymous' && o.secured && r.status !== 401 && r.status !== 413 && !((early(c) || lacksQuery(o, c)) && (r.status === 400 || r.status === 404)))
          failures.push(`anonymous not refused: ${where}`);
      }
      if (watchWrites && (await fingerprint()) !== before) failures.push(`viewer wrote during:\n  ${answers.filter((a) => !/→ 4\d\d/.test(a)).join('\n  ')}`);
    }
    expect(failures).toEqual([]);
  });
});

// ---------- the job functions ----------

const JOBS: Array<{ name: string; kind: JobKind; build: (ctx: AppContext) => AetherApp }> = [
  { name: 'tick', kind: 'tick', build: (ctx) => tickApp(ctx) },
  { name: 'score', kind: 'score', build: (ctx) => scoreApp(ctx) },
  { name: 'report', kind: 'report', build: (ctx) => reportApp(ctx) },
  { name: 'train', kind: 'train', build: (ctx) => trainApp(ctx) },
  { name: 'order-company', kind: 'order', build: (ctx) => orderApp(ctx, 'company') },
];

describe('hostile input to the job functions: unsigned, wrongly signed and signed (a body the queue schema refuses)', () => {
  it.each(JOBS)('$name', async ({ name, kind, build }) => {
    const app = build(h.ctx);
    const jobDoc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: name, version: 'fuzz' } }) as unknown as OpenApiDoc;
    const failures: string[] = [];
    for (const o of operationsOf(jobDoc)) {
      const cases = [...sampleOf(casesOf(o), 60, random)];
      for (const c of cases) {
        const text = typeof c.body === 'string' ? c.body : '';
        let parsed: unknown;
        try {
          parsed = text === '' ? {} : JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        // A body the queue would accept would run the job for real: those go unsigned only.
        const runnable = o.method === 'POST' && o.path === '/' && typeof c.body === 'string' && (c.contentType ?? '').startsWith('application/json') && jobSchemas[kind].safeParse(parsed).success;
        const signatures: Array<[string, Record<string, string>]> = [
          ['unsigned', {}],
          ['wrongly signed', { 'x-aether-timestamp': String(h.ctx.clock.now()), 'x-aether-signature': '0'.repeat(64) }],
        ];
        if (!runnable && o.method === 'POST')
          signatures.push(['signed', signJob(h.ctx.jobKey, { method: 'POST', path: `/function/${name}`, body: text }, h.ctx.clock.now())]);
        for (const [how, headers] of signatures) {
          const r = await send(app, o.method, c, headers);
          const where = `${name} ${how} ${o.key} [${c.name}] → ${r.status} ${r.text.slice(0, 200)}`;
          if (r.status >= 500) failures.push(`5xx: ${where}`);
          if (r.status >= 400 && !errorShape.safeParse(r.json).success) failures.push(`not the error shape: ${where}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
