import { expect } from 'vitest';
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import * as schema from '../../schema/index.ts';
import type { AppContext } from '../../lib/context.ts';
import type { VirtualClock } from '../../lib/clock.ts';
import { issueOnboardingToken } from '../../lib/accounts/onboarding.ts';
import { totpCode } from '../../lib/accounts/totp.ts';
import type { AetherApp } from '../../lib/http/app.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { createApp } from '../../functions/api/handler.ts';
import { jobFunctionPath, signJob } from '../../lib/http/job-signature.ts';
import type { JobSigner } from '../../lib/queue/dispatcher.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { testContext } from './context.ts';
import { createLogger } from '../../lib/log.ts';
import { parseConfig } from '../../lib/config.ts';

/** The one error shape every route must answer with. */
export const errorShape = z.object({ code: z.string().min(1), message: z.string(), requestId: z.string().min(1) }).strict();

export interface ApiHarness {
  testDb: TestDatabase;
  queue: QueueClient;
  ctx: AppContext;
  clock: VirtualClock;
  app: AetherApp;
  /** Columns the Drizzle schema declares that the migrated database lacks (before any test patch). */
  schemaDrift: string[];
  /** Every log line the context wrote (level debug), for redaction checks. */
  logs: string[];
  close(): Promise<void>;
}

/** `table.column` of every Drizzle column the migrations did not create. */
export async function missingColumns(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.owner.query<{ c: string }>(`select table_name || '.' || column_name as c from information_schema.columns where table_schema = 'public'`);
  const have = new Set(rows.map((r) => r.c));
  const declared = (Object.values(schema) as unknown[])
    .filter((v): v is PgTable => v instanceof PgTable)
    .flatMap((t) => {
      const c = getTableConfig(t);
      return c.columns.map((col) => `${c.name}.${col.name}`);
    });
  if (declared.length < 20) throw new Error('the Drizzle schema exports fewer tables than expected');
  return declared.filter((c) => !have.has(c));
}

/**
 * A fresh migrated database, the real PostgreSQL queue backend and the api app over both. The
 * context logs at debug into `logs`; `overrides` replace parts of it (given the master key in use).
 */
export async function startApi(overrides: (masterKey: Buffer) => Partial<AppContext> = () => ({})): Promise<ApiHarness> {
  const testDb = await createTestDatabase();
  const schemaDrift = await missingColumns(testDb);
  const queue = await openQueueClient({ databaseUrl: testDb.url, onError: () => {} });
  const logs: string[] = [];
  const masterKey = Buffer.alloc(32, 9);
  // As if behind one proxy: each test's X-Forwarded-For is its client address for login throttling.
  const config = parseConfig({ AETHER_HOME: '/nonexistent', TRUSTED_PROXY_HOPS: '1' });
  const ctx = testContext(testDb.app.db, queue, { config, masterKey, logger: createLogger('debug', { write: (line: string) => void logs.push(line) }), ...overrides(masterKey) });
  return {
    testDb,
    queue,
    ctx,
    clock: ctx.clock as VirtualClock,
    app: createApp(ctx),
    schemaDrift,
    logs,
    async close() {
      await queue.close();
      await testDb.drop();
    },
  };
}

export interface CallOptions {
  token?: string;
  /** Serialised as JSON with content-type application/json. */
  json?: unknown;
  /** Sent verbatim (with `contentType`, default application/json). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** A job call: signed as the dispatcher signs it for function `fn` (the exact body sent). */
  signAs?: { signer: JobSigner; fn: string };
}

export interface Reply {
  status: number;
  body: unknown;
  text: string;
  headers: Headers;
}

/** One request through `app.request`; the body is parsed as JSON when it is JSON. */
export async function call(app: AetherApp, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  let body: string | undefined;
  if (o.json !== undefined) {
    body = JSON.stringify(o.json);
    headers['content-type'] = o.contentType ?? 'application/json';
  } else if (o.raw !== undefined) {
    body = o.raw;
    headers['content-type'] = o.contentType ?? 'application/json';
  }
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.signAs) Object.assign(headers, signJob(o.signAs.signer.jobKey, { method, path: jobFunctionPath(o.signAs.fn), body: body ?? '' }, o.signAs.signer.clock.now()));
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Asserts the reply is `status` in the error shape and returns its code. */
export function expectError(r: Reply, status: number, code?: string): string {
  expect(r.status, r.text).toBe(status);
  const e = errorShape.parse(r.body);
  if (code) expect(e.code, r.text).toBe(code);
  return e.code;
}

/** The base32 secret of an otpauth:// URI. */
export function secretOf(totpUri: string): string {
  const s = new URL(totpUri).searchParams.get('secret');
  if (!s) throw new Error(`no secret in ${totpUri}`);
  return s;
}

/** The TOTP code of `secret` at the clock's current time. */
export const codeAt = (secret: string, clock: VirtualClock): string => totpCode(secret, Math.floor(clock.now() / 1000));

/** Moves the clock to the start of a fresh 30 s TOTP step, so the next code has never been used. */
export function nextTotpStep(clock: VirtualClock): void {
  clock.advance(30_000 - (clock.now() % 30_000));
}

export interface Admin {
  email: string;
  password: string;
  secret: string;
  userId: string;
}

export const ADMIN = { email: 'first.admin@example.com', name: 'First Admin', password: 'correct horse battery staple' } as const;

/** Runs first-run onboarding through the API: the first admin, then the default accounts. */
export async function onboard(h: ApiHarness): Promise<{ admin: Admin; token: string; accounts: Record<string, string> }> {
  const onboardingToken = await issueOnboardingToken(h.ctx.db);
  if (!onboardingToken) throw new Error('database already has users');
  const r = await call(h.app, 'POST', '/onboarding/admin', { json: { token: onboardingToken, ...ADMIN } });
  expect(r.status, r.text).toBe(201);
  const created = r.body as { user: { id: string }; totpUri: string };
  const admin = { email: ADMIN.email, password: ADMIN.password, secret: secretOf(created.totpUri), userId: created.user.id };
  const token = await loginAdmin(h, admin);
  const a = await call(h.app, 'POST', '/onboarding/accounts', { token, json: {} });
  expect(a.status, a.text).toBe(200);
  const accounts = Object.fromEntries((a.body as { accounts: Array<{ slug: string; id: string }> }).accounts.map((x) => [x.slug, x.id]));
  return { admin, token, accounts };
}

/** Logs an admin in with a fresh TOTP code (moving the clock to the next step first). */
export async function loginAdmin(h: ApiHarness, admin: Pick<Admin, 'email' | 'password' | 'secret'>, ip = '198.51.100.1'): Promise<string> {
  nextTotpStep(h.clock);
  const r = await call(h.app, 'POST', '/auth/login', {
    json: { email: admin.email, password: admin.password, totp: codeAt(admin.secret, h.clock) },
    headers: { 'x-forwarded-for': ip },
  });
  expect(r.status, r.text).toBe(200);
  return (r.body as { token: string }).token;
}

/**
 * Opens a session's step-up window (going live, keys, halt resets, loosening a risk limit) with a
 * fresh TOTP code. A TOTP login opens it too, for five minutes: tests that move the clock further
 * call this before such an action.
 */
export async function stepUp(h: ApiHarness, token: string, admin: Pick<Admin, 'secret'>, ip = '198.51.100.3'): Promise<void> {
  nextTotpStep(h.clock);
  const r = await call(h.app, 'POST', '/auth/step-up', { token, json: { totp: codeAt(admin.secret, h.clock) }, headers: { 'x-forwarded-for': ip } });
  expect(r.status, r.text).toBe(200);
}

export async function login(h: ApiHarness, email: string, password: string, ip = '198.51.100.2'): Promise<string> {
  const r = await call(h.app, 'POST', '/auth/login', { json: { email, password }, headers: { 'x-forwarded-for': ip } });
  expect(r.status, r.text).toBe(200);
  return (r.body as { token: string }).token;
}

/** Row counts of every table in the public schema, read as the owner (row-level security does not hide rows). */
export async function rowCounts(h: ApiHarness): Promise<Record<string, number>> {
  const { rows: tables } = await h.testDb.owner.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public' order by tablename`);
  if (tables.length === 0) throw new Error('no tables in the public schema');
  const union = tables.map(({ t }) => `select '${t}' as t, count(*)::int as n from public."${t}"`).join(' union all ');
  const { rows } = await h.testDb.owner.query<{ t: string; n: number }>(union);
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}

/** Runs `fn` and asserts it wrote nothing to any table. */
export async function writesNothing(h: ApiHarness, fn: () => Promise<void>): Promise<void> {
  const before = await rowCounts(h);
  await fn();
  expect(await rowCounts(h)).toEqual(before);
}
