import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkLeastPrivilege, migrateAsOwner, resolveDatabase, StartupError } from '../../bin/services.ts';
import { parseConfig } from '../../lib/config.ts';
import { openDatabase, pgErrorCode, rowsOf, type Database } from '../../lib/db/client.ts';
import { excessPrivileges, RUNTIME_ROLE, runtimeUrl, setRuntimePassword } from '../../lib/db/runtime-role.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { appendAudit } from '../../lib/audit/index.ts';
import { createLogger } from '../../lib/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * Issue 9: the runtime logs in as aether_runtime — no superuser, owner of nothing, member only of
 * aether_app — so no code path can step around row-level security or the audit log: it cannot
 * become the owner, disable a trigger, rewrite or delete audit rows, or read another account's rows.
 * Migrations (and this file's fixtures) use the owner.
 */
let t: TestDatabase;
let runtime: Database;
/** aether_runtime with no startup role: what code gets after a RESET ROLE. */
let bare: pg.Pool;
let url: string;
let A: string;
let B: string;

const failsWith = async (code: string, q: Promise<unknown>): Promise<void> => {
  const err = await q.then(() => null, (e: unknown) => e);
  expect(err, `expected SQLSTATE ${code}`).not.toBeNull();
  expect(pgErrorCode(err)).toBe(code);
};
const INSUFFICIENT_PRIVILEGE = '42501';

beforeAll(async () => {
  t = await createTestDatabase();
  // The role is cluster-wide; its password is what `aether migrate` / the embedded runtime set.
  const password = randomBytes(12).toString('base64url');
  await setRuntimePassword(t.url, password);
  url = runtimeUrl(t.url, password);
  runtime = await openDatabase({ url, driver: 'pg', max: 2 });
  bare = new pg.Pool({ connectionString: url, max: 2 });
  const acc = await t.owner.query("insert into accounts (slug, name, kind) values ('priv-a', 'A', 'other'), ('priv-b', 'B', 'other') returning id");
  [A, B] = acc.rows.map((r: { id: string }) => r.id) as [string, string];
  for (const id of [A, B]) await t.owner.query("insert into kraken_nonces (account_id, last_nonce) values ($1, '100')", [id]);
}, 60_000);
afterAll(async () => {
  await runtime?.close();
  await bare?.end();
  await t?.drop();
});

describe('the runtime role', () => {
  it('is a plain login: no superuser, createrole, createdb, replication or bypassrls, owner of nothing', async () => {
    const { rows } = await t.owner.query(`select rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin from pg_roles where rolname = $1`, [RUNTIME_ROLE]);
    expect(rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true });
    const owned = await t.owner.query(
      `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and pg_has_role($1, c.relowner, 'MEMBER')`,
      [RUNTIME_ROLE],
    );
    expect(owned.rows).toEqual([]);
    expect(await excessPrivileges(runtime.db)).toEqual([]);
    expect((await bare.query('select session_user as s, current_user as c')).rows[0]).toEqual({ s: RUNTIME_ROLE, c: RUNTIME_ROLE });
  });

  it('the owner connection the runtime used to have is reported as too powerful', async () => {
    const owner = await openDatabase({ url: t.url, driver: 'pg', max: 1 });
    try {
      expect((await excessPrivileges(owner.db)).join('; ')).toMatch(/superuser/);
    } finally {
      await owner.close();
    }
  });

  it('cannot SET ROLE to the tables’ owner (nor RESET its way to more than it has)', async () => {
    const { rows } = await t.owner.query(`select tableowner from pg_tables where schemaname = 'public' and tablename = 'audit_log'`);
    const owner = rows[0].tableowner as string;
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query(`set role "${owner}"`));
    await failsWith(INSUFFICIENT_PRIVILEGE, runtime.db.execute(sql.raw(`set role "${owner}"`)));
    const c = await bare.connect();
    try {
      await c.query('reset role');
      expect((await c.query('select current_user as u')).rows[0].u).toBe(RUNTIME_ROLE);
    } finally {
      c.release();
    }
  });

  it('cannot disable a trigger, switch triggers off for the session, or drop one', async () => {
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query('alter table audit_log disable trigger audit_log_no_update_delete'));
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query('alter table audit_log disable trigger all'));
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query('set session_replication_role = replica'));
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query('drop trigger audit_log_no_update_delete on audit_log'));
    await failsWith(INSUFFICIENT_PRIVILEGE, bare.query('alter table orders no force row level security'));
  });

  it('may only INSERT and SELECT audit rows: UPDATE, DELETE and TRUNCATE are refused', async () => {
    // Appending is what the runtime does all day: through this role, in a transaction.
    const row = await runtime.db.transaction((tx) => appendAudit(tx, { action: 'test.privilege', details: { n: 1 } }));
    const before = (await t.owner.query('select count(*)::int as n, max(hash) as h from audit_log')).rows[0];
    expect(before).toEqual({ n: 1, h: row.hash });
    for (const db of [bare, runtime]) {
      const q = (s: string) => (db === bare ? bare.query(s) : runtime.db.execute(sql.raw(s)));
      await failsWith(INSUFFICIENT_PRIVILEGE, q(`update audit_log set action = 'forged'`));
      await failsWith(INSUFFICIENT_PRIVILEGE, q('delete from audit_log'));
      await failsWith(INSUFFICIENT_PRIVILEGE, q('truncate audit_log'));
    }
    expect((await t.owner.query('select count(*)::int as n, max(hash) as h from audit_log')).rows[0]).toEqual(before);
    const privs = await t.owner.query(
      `select p, has_table_privilege($1, 'audit_log', p) as ok from unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','TRIGGER']) p`,
      [RUNTIME_ROLE],
    );
    expect(Object.fromEntries(privs.rows.map((r: { p: string; ok: boolean }) => [r.p, r.ok]))).toEqual({ SELECT: true, INSERT: true, UPDATE: false, DELETE: false, TRUNCATE: false, TRIGGER: false });
  });

  it('cannot read or write another account’s rows, with or without the application role', async () => {
    const states = await withAccount(runtime.db, A, async (tx) => rowsOf<{ account_id: string }>(await tx.execute(sql`select account_id from kraken_nonces`)));
    expect(states.map((r) => r.account_id)).toEqual([A]);
    // Outside an account scope, and as the bare login (after a RESET ROLE), account tables look empty.
    expect(rowsOf(await runtime.db.execute(sql`select 1 from kraken_nonces`))).toEqual([]);
    expect((await bare.query('select 1 from kraken_nonces')).rows).toEqual([]);
    const c = await bare.connect();
    try {
      await c.query('begin');
      await c.query(`select set_config('aether.account_id', $1, true)`, [A]);
      expect((await c.query('select account_id from kraken_nonces')).rows).toEqual([{ account_id: A }]);
      // B's row is invisible to an update; a row written for B fails the policy's check.
      expect((await c.query(`update kraken_nonces set last_nonce = '1' where account_id = $1`, [B])).rowCount).toBe(0);
      await failsWith(INSUFFICIENT_PRIVILEGE, c.query(`insert into kraken_nonces (account_id, last_nonce) values ($1, '1')`, [B]));
      await c.query('rollback');
    } finally {
      c.release();
    }
    expect((await t.owner.query(`select last_nonce from kraken_nonces where account_id = $1`, [B])).rows).toEqual([{ last_nonce: '100' }]);
  });

  it('row-level security is forced on every table that has it (the owner is no exception)', async () => {
    const { rows } = await t.owner.query(
      `select c.relname, c.relforcerowsecurity as forced from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relrowsecurity order by 1`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(15);
    expect(rows.filter((r: { forced: boolean }) => !r.forced)).toEqual([]);
  });
});

describe('start-up with an external database', () => {
  const home = mkdtempSync(join(tmpdir(), 'aether-priv-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('migrates with the owner URL, sets the runtime password from DATABASE_URL, and connects as aether_runtime', async () => {
    const password = randomBytes(12).toString('base64url');
    const config = parseConfig({ AETHER_HOME: home, DATABASE_URL: runtimeUrl(t.url, password), AETHER_MIGRATE_DATABASE_URL: t.url });
    const urls = await resolveDatabase(config, createLogger('silent'), false);
    expect(urls).toMatchObject({ url: config.DATABASE_URL, ownerUrl: t.url, runtimePassword: password, embedded: null });
    await migrateAsOwner(urls, 'pg');
    const db = await openDatabase({ url: urls.url, driver: 'pg', max: 1 });
    try {
      expect(rowsOf<{ s: string }>(await db.db.execute(sql`select session_user as s`))[0]?.s).toBe(RUNTIME_ROLE);
      await checkLeastPrivilege({ ...config, KUBERNETES_SERVICE_HOST: '10.0.0.1' }, db, createLogger('silent'));
    } finally {
      await db.close();
    }
  });

  it('in Kubernetes, refuses a superuser DATABASE_URL naming why (and never migrates from a pod); elsewhere warns', async () => {
    const owner = await openDatabase({ url: t.url, driver: 'pg', max: 1 });
    const lines: string[] = [];
    try {
      const inPod = parseConfig({ AETHER_HOME: home, DATABASE_URL: t.url, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
      const err = await checkLeastPrivilege(inPod, owner, createLogger('silent')).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/superuser.*AETHER_MIGRATE_DATABASE_URL/);
      expect((await resolveDatabase(inPod, createLogger('silent'), false)).ownerUrl).toBeNull();
      const local = parseConfig({ AETHER_HOME: home, DATABASE_URL: t.url });
      await checkLeastPrivilege(local, owner, createLogger('warn', { write: (l: string) => void lines.push(l) }));
    } finally {
      await owner.close();
    }
    expect(lines.join('')).toMatch(/more than the runtime needs/);
  });
});
