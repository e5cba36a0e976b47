import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { call, errorShape, onboard, rowCounts, startApi, type CallOptions } from '../helpers/api.ts';
import { operationsOf, resolveIn, type JsonSchema, type OpenApiDoc, type Op, type Parameter } from '../helpers/openapi.ts';

/**
 * The route table: every operation is taken from the app's own OpenAPI document (so a new route
 * cannot be forgotten), then fed malformed JSON, wrong types, unknown fields, the wrong content type
 * and bad query/path parameters, as an admin and anonymously. Every answer must be a 4xx in the
 * error shape, and no table may change.
 */

// Built at collection time so that each case is its own test.
const h = await startApi();
const doc = (await call(h.app, 'GET', '/openapi.json')).body as OpenApiDoc;
let adminToken = '';

beforeAll(async () => {
  ({ token: adminToken } = await onboard(h));
});
afterAll(async () => {
  await h.close();
});

const resolve = resolveIn(doc);
const ops = operationsOf(doc);

/** The routes the API must serve (issue 2); the document may add more, never fewer. */
const REQUIRED = [
  'GET /onboarding',
  'POST /onboarding/admin',
  'POST /onboarding/accounts',
  'POST /auth/login',
  'POST /auth/logout',
  'GET /me',
  'GET /accounts',
  'GET /accounts/{account}',
  'POST /accounts',
  'GET /users',
  'POST /users',
  'GET /audit',
  'GET /audit/verify',
  'GET /healthz',
  'GET /metrics',
  'GET /openapi.json',
];

/** A body each operation would accept: the unknown-field case adds one key to it. A new body route needs one here. */
const VALID_BODIES: Record<string, Record<string, unknown>> = {
  'POST /onboarding/admin': { token: 'x'.repeat(32), email: 'route.table@example.com', name: 'Route Table', password: 'route table password' },
  'POST /onboarding/accounts': { accounts: [{ slug: 'route-table', name: 'Route table', kind: 'other' }] },
  'POST /auth/login': { email: 'route.table@example.com', password: 'route table password', totp: '123456' },
  'POST /accounts': { slug: 'route-table', name: 'Route table', kind: 'other' },
  'POST /users': { email: 'route.table@example.com', name: 'Route Table', role: 'viewer', password: 'route table password', accountIds: [] },
  'PATCH /accounts/{account}/settings/{kind}': {},
  'POST /accounts/{account}/simulation': { enabled: true },
  'POST /accounts/{account}/keys': { apiKey: 'A'.repeat(56), apiSecret: Buffer.alloc(64, 7).toString('base64') },
  'PUT /accounts/{account}/hedge': { mode: 'manual', ratio: 0.5 },
  'PUT /accounts/{account}/starting-balance': { usd: 20_000 },
  'POST /accounts/{account}/trading-state/reset': { note: 'route table reset' },
  'POST /accounts/{account}/trading-state/halt': { note: 'route table halt' },
  'POST /auth/step-up': { totp: '123456' },
  'POST /me/password': { currentPassword: 'route table password', newPassword: 'another route table password' },
  'POST /me/totp/confirm': { totp: '123456' },
  'POST /users/{id}/password': { password: 'route table temporary password' },
  'PUT /users/{id}/accounts': { accountIds: [] },
  'POST /onboarding/invite': { token: 'x'.repeat(32), password: 'route table password' },
};

/** Documented 4xx answers that deliberately carry a domain body instead of the error shape. */
const NOT_ERROR_SHAPED = new Set(['GET /audit/verify 409']); // the broken chain's report (which row, why)

/** A path parameter value the route accepts, so that what answers is the part under test. */
function validParam(p: Parameter): string {
  const s = resolve(p.schema);
  if (p.name === 'account') return 'company'; // created by onboarding
  if (s.enum?.length) return String(s.enum[0]);
  if (s.example !== undefined) return String(s.example);
  throw new Error(`no valid value for path parameter ${p.name}; teach the table`);
}
const concretePath = (o: Op, override: Record<string, string> = {}): string =>
  o.path.replace(/\{([^}]+)\}/g, (_, name: string) => override[name] ?? validParam(o.pathParams.find((p) => p.name === name)!));

const variants = (s: JsonSchema): JsonSchema[] => {
  const r = resolve(s);
  const alts = r.oneOf ?? r.anyOf;
  return alts ? alts.flatMap(variants) : [r];
};

/** Properties of an object schema, or of every variant of a union of objects. */
const propsOf = (s: JsonSchema): Array<[string, JsonSchema]> => {
  const seen = new Map<string, JsonSchema>();
  for (const v of variants(s)) for (const [k, p] of Object.entries(v.properties ?? {})) if (!seen.has(k)) seen.set(k, p);
  return [...seen];
};

const jsonType = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** The JSON types a schema admits; null when it admits anything. */
function allowedTypes(s: JsonSchema): Set<string> | null {
  const out = new Set<string>();
  for (const v of variants(s)) {
    if (v.const !== undefined) out.add(jsonType(v.const));
    else if (v.enum) v.enum.forEach((e) => out.add(jsonType(e)));
    else if (v.type) (Array.isArray(v.type) ? v.type : [v.type]).forEach((t) => out.add(t === 'integer' ? 'number' : t));
    else return null;
  }
  return out;
}

/** A JSON value whose type the schema does not allow (undefined when it allows every type). */
function wrongValue(s: JsonSchema): unknown {
  const allowed = allowedTypes(s);
  if (!allowed) return undefined;
  return [12345, 'text', true, ['x'], { x: 1 }].find((v) => !allowed.has(jsonType(v)));
}

/** An open map (record) body: any key is syntactically fine, the handler judges the content. */
const isOpenMap = (s: JsonSchema): boolean => !s.properties && !s.oneOf && !s.anyOf && typeof s.additionalProperties === 'object';

/** Copies of `value` with an unknown key added at each object, top-level and nested. */
function withUnknownKeys(value: unknown, path: string[] = []): Array<{ at: string; body: unknown }> {
  const out: Array<{ at: string; body: unknown }> = [];
  const rebuild = (replacement: unknown, p: string[], root: unknown): unknown => {
    if (p.length === 0) return replacement;
    const [head, ...rest] = p;
    if (Array.isArray(root)) return root.map((v, i) => (String(i) === head ? rebuild(replacement, rest, v) : v));
    const obj = root as Record<string, unknown>;
    return { ...obj, [head!]: rebuild(replacement, rest, obj[head!]) };
  };
  const walk = (node: unknown, p: string[]): void => {
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...p, String(i)]));
    else if (node && typeof node === 'object') {
      out.push({ at: p.join('.') || '(body)', body: rebuild({ ...(node as object), zzUnknown: 1 }, p, value) });
      for (const [k, v] of Object.entries(node)) walk(v, [...p, k]);
    }
  };
  walk(value, path);
  return out;
}

interface Case {
  op: Op;
  name: string;
  req: Omit<CallOptions, 'token'>;
  query?: string;
  path?: string;
  /** What an authenticated admin gets; anonymous callers get 401 first on secured routes, except for bad path and query parameters (judged before authentication). */
  status: number[];
  code?: string;
  /** Substrings the error message must contain (the field that was wrong). */
  mentions?: string[];
}

function casesOf(o: Op): Case[] {
  const cases: Case[] = [];
  if (o.body) {
    cases.push(
      { op: o, name: 'malformed JSON', req: { raw: '{"a":' }, status: [400], code: 'BAD_REQUEST' },
      { op: o, name: 'empty JSON body', req: { raw: '' }, status: [400], code: 'BAD_REQUEST' },
      { op: o, name: 'a JSON array for the body', req: { raw: '[]' }, status: [400], code: 'VALIDATION_FAILED' },
      { op: o, name: 'JSON null for the body', req: { raw: 'null' }, status: [400], code: 'VALIDATION_FAILED' },
      { op: o, name: 'a JSON string for the body', req: { raw: '"hello"' }, status: [400], code: 'VALIDATION_FAILED' },
    );
    const props = propsOf(o.body)
      .map(([k, s]) => [k, wrongValue(s)] as const)
      .filter(([, v]) => v !== undefined);
    if (props.length) {
      // A discriminated union names only the discriminator when it is wrong; plain objects name every field.
      const union = variants(o.body).length > 1;
      const mentions = union ? [] : props.map(([k]) => `${k}:`);
      cases.push({ op: o, name: `wrong types for ${props.map(([k]) => k).join(', ')}`, req: { json: Object.fromEntries(props) }, status: [400], code: 'VALIDATION_FAILED', mentions });
    }
    const valid = VALID_BODIES[o.key];
    if (valid) {
      // An open map passes schema validation by design; the handler must still refuse the unknown key.
      const code = isOpenMap(o.body) ? undefined : 'VALIDATION_FAILED';
      for (const { at, body } of withUnknownKeys(valid))
        cases.push({ op: o, name: `an unknown field at ${at}`, req: { json: body }, status: [400], code, mentions: ['zzUnknown'] });
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])
        cases.push({ op: o, name: `content-type ${contentType}`, req: { raw: JSON.stringify(valid), contentType }, status: [415] });
    }
  }
  for (const p of o.query) {
    const s = resolve(p.schema);
    const bad: string[] = [];
    if (s.type === 'integer' || s.type === 'number') {
      bad.push('abc', '');
      if (s.type === 'integer') bad.push('1.5');
      if (s.minimum !== undefined) bad.push(String(s.minimum - 1));
      if (s.exclusiveMinimum !== undefined) bad.push(String(s.exclusiveMinimum));
      if (s.maximum !== undefined) bad.push(String(s.maximum + 1));
    } else if (s.type === 'string') {
      if (s.format === 'uuid') bad.push('not-a-uuid');
      if (s.format === 'date-time') bad.push('yesterday', '2026-13-40T00:00:00Z');
      if (s.pattern) bad.push('!! not matching !!');
      if (s.maxLength !== undefined) bad.push('a'.repeat(s.maxLength + 1));
    }
    if (bad.length === 0) throw new Error(`${o.key}: no bad values for query parameter ${p.name} (${JSON.stringify(s)}); teach the table`);
    for (const v of bad)
      cases.push({ op: o, name: `query ${p.name}=${JSON.stringify(v)}`, req: {}, query: `${p.name}=${encodeURIComponent(v)}`, status: [400], code: 'VALIDATION_FAILED', mentions: [p.name] });
  }
  if (o.query.length) {
    cases.push({ op: o, name: 'an unknown query parameter', req: {}, query: 'zzUnknown=1', status: [400], code: 'VALIDATION_FAILED', mentions: ['zzUnknown'] });
  }
  for (const p of o.pathParams) {
    const s = resolve(p.schema);
    // Path parameters are judged before the route's middleware (lib/http/hygiene.ts paramsFirst): a 400, never a lookup.
    if (s.maxLength !== undefined)
      cases.push({ op: o, name: `path ${p.name} of ${s.maxLength + 1} characters`, req: {}, path: concretePath(o, { [p.name]: 'a'.repeat(s.maxLength + 1) }), status: [400], code: 'VALIDATION_FAILED' });
    else if (s.enum) cases.push({ op: o, name: `path ${p.name} outside its enum`, req: {}, path: concretePath(o, { [p.name]: 'zz-not-listed' }), status: [400], code: 'VALIDATION_FAILED' });
    else throw new Error(`${o.key}: no bad value for path parameter ${p.name} (${JSON.stringify(s)}); teach the table`);
  }
  return cases;
}

const cases = ops.flatMap(casesOf);
const label = (c: Case): string => `${c.op.key}: ${c.name}`;

async function send(c: Case, token: string | undefined) {
  const url = (c.path ?? concretePath(c.op)) + (c.query ? `?${c.query}` : '');
  return call(h.app, c.op.method, url, { ...c.req, token });
}

async function check(c: Case, asAdmin: boolean): Promise<void> {
  const before = await rowCounts(h);
  const r = await send(c, asAdmin ? adminToken : undefined);
  expect(r.status, r.text).toBeGreaterThanOrEqual(400);
  expect(r.status, r.text).toBeLessThan(500);
  const e = errorShape.parse(r.body);
  expect(r.headers.get('x-request-id')).toBe(e.requestId);
  if (!asAdmin && c.op.secured && !c.query && !c.path) {
    expect(r.status, r.text).toBe(401);
    expect(e.code).toBe('UNAUTHENTICATED');
  } else {
    expect(c.status, r.text).toContain(r.status);
    if (c.code) expect(e.code, r.text).toBe(c.code);
    for (const m of c.mentions ?? []) expect(e.message).toContain(m);
    // An unknown field is the only thing wrong with the valid body: exactly one issue.
    if (c.name.startsWith('an unknown field')) expect(e.message, 'the valid example has other faults').not.toContain(';');
  }
  expect(await rowCounts(h)).toEqual(before);
}

describe('the OpenAPI document', () => {
  it('is a structurally valid OpenAPI 3.1 document whose $refs all resolve', () => {
    const response = z.object({ description: z.string().min(1), content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })).optional() });
    const parameter = z.object({ name: z.string().min(1), in: z.enum(['query', 'path', 'header', 'cookie']), required: z.boolean().optional(), schema: z.record(z.string(), z.unknown()) });
    const operation = z.object({
      responses: z.record(z.string().regex(/^([1-5]\d\d|[1-5]XX|default)$/), response).refine((r) => Object.keys(r).length > 0, 'no responses'),
      parameters: z.array(parameter).optional(),
      requestBody: z.object({ required: z.boolean().optional(), content: z.record(z.string(), z.object({ schema: z.record(z.string(), z.unknown()) })) }).optional(),
      security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
    });
    const schema = z
      .object({
        openapi: z.string().regex(/^3\.1\.\d+$/),
        info: z.object({ title: z.string().min(1), version: z.string().min(1) }),
        paths: z.record(z.string().regex(/^\//), z.record(z.string(), z.unknown())),
        components: z.object({ schemas: z.record(z.string(), z.unknown()).optional(), securitySchemes: z.record(z.string(), z.unknown()).optional() }).optional(),
        webhooks: z.record(z.string(), z.unknown()).optional(),
      })
      .strict();
    schema.parse(doc);
    for (const o of ops) {
      operation.parse(o.op);
      // Every templated segment has a required path parameter, and vice versa.
      const templated = [...o.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      expect(o.pathParams.map((p) => p.name).sort(), o.key).toEqual(templated.sort());
      expect(o.pathParams.every((p) => p.required === true), o.key).toBe(true);
      for (const s of o.op.security ?? []) for (const name of Object.keys(s)) expect(doc.components?.securitySchemes?.[name], `${o.key} security ${name}`).toBeDefined();
      // A secured route documents its 401, and every 4xx it documents is in the error shape.
      if (o.secured) expect(o.op.responses['401'], o.key).toBeDefined();
      for (const [status, r] of Object.entries(o.op.responses))
        if (/^4/.test(status) && !NOT_ERROR_SHAPED.has(`${o.key} ${status}`)) expect(r.content?.['application/json']?.schema.$ref, `${o.key} ${status}`).toBe('#/components/schemas/Error');
    }
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(() => resolve({ $ref: ref.slice(8, -1) })).not.toThrow();
    const ids = ops.map((o) => o.op.operationId).filter(Boolean);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('lists every route of issue 2', () => {
    const listed = new Set(ops.map((o) => o.key));
    expect(REQUIRED.filter((k) => !listed.has(k))).toEqual([]);
  });

  it('lists every route the app actually serves (no undocumented routes)', () => {
    const served = new Set(h.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`));
    expect([...served].filter((k) => !ops.some((o) => o.key === k)).sort()).toEqual([]);
    expect(ops.map((o) => o.key).filter((k) => !served.has(k)).sort()).toEqual([]);
  });

  it('declares additionalProperties: false on every request body object, nested ones too', () => {
    const open: string[] = [];
    const walk = (s: JsonSchema, where: string): void => {
      for (const r of variants(s)) {
        // Objects with named fields must be closed; open maps (records) are judged by their handler.
        if (r.properties) {
          if (r.additionalProperties !== false) open.push(where);
          for (const [k, v] of Object.entries(r.properties)) walk(v, `${where}.${k}`);
        }
        if (r.items) walk(r.items, `${where}[]`);
      }
    };
    for (const o of ops) if (o.body) walk(o.body, o.key);
    expect(open).toEqual([]);
  });

  it('the route table has a valid example body for exactly the operations that take one', () => {
    expect(Object.keys(VALID_BODIES).sort()).toEqual(ops.filter((o) => o.body).map((o) => o.key).sort());
    expect(ops.filter((o) => o.body).length).toBeGreaterThanOrEqual(5);
    expect(ops.filter((o) => o.query.length).length).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input to every operation, as an admin: a 4xx in the error shape and nothing written', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_, c) => check(c, true));
});

describe('bad input to every operation, anonymously: a 4xx in the error shape and nothing written', () => {
  it.each(cases.map((c) => [label(c), c] as const))('%s', async (_, c) => check(c, false));
});
