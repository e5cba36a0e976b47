import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { anchorHead, appendAudit, auditKey, findAuditKey, GENESIS_HASH, loadAuditKey, readAnchorLog, rowHash, rowHmac, verifyAudit, type Anchor } from '../../lib/audit/index.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { openDatabase, type Database } from '../../lib/db/client.ts';
import { migrateDatabase, migrationsFolder } from '../../lib/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
let dir: string;
let anchorsFile: string;
const clock = new VirtualClock(Date.parse('2026-03-01T00:00:00Z'));
const key = () => auditKey(); // the test process's key (tests/setup/audit-key.ts)
const CLI_TIMEOUT = 120_000; // a spawned `aether` starts node, loads TypeScript and connects: seconds on a busy machine

beforeAll(async () => {
  t = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'aether-audit-'));
  for (let i = 0; i < 5; i++) await append('test.seed', { i }); // each test finds a chain to tamper with
});
afterAll(async () => {
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach((ctx) => {
  anchorsFile = join(dir, `${ctx.task.id}.jsonl`); // each test its own anchor log
});

const auditCount = async (): Promise<number> => Number((await t.owner.query('select count(*) as n from audit_log')).rows[0].n);
const append = (action: string, details: Record<string, unknown> = {}) => t.app.db.transaction((tx) => appendAudit(tx, { action, details }, clock));
const anchors = async (): Promise<Anchor[]> => (await readAnchorLog(anchorsFile)).anchors;
const verify = async (opts: { key?: Buffer | null } = {}) => verifyAudit(t.app.db, { key: opts.key === undefined ? key() : opts.key, anchors: await anchors() });

interface StoredRow {
  id: string;
  ts: Date;
  user_id: string | null;
  account_id: string | null;
  action: string;
  details: unknown;
  prev_hash: string;
  hash: string;
  alg: string;
}

/**
 * Changes the chain out of band as someone with the database's owner (not the runtime role, which
 * cannot UPDATE or DELETE audit rows) and without the audit key: the append-only triggers disabled
 * for the transaction. `check` runs on the changed chain; the clean chain is put back afterwards.
 */
async function tampered(change: (c: pg.PoolClient, rows: StoredRow[]) => Promise<void>, check: () => Promise<void>): Promise<void> {
  const c = await t.owner.connect();
  const asOwner = async (fn: () => Promise<void>) => {
    await c.query('begin');
    await c.query('set local session_replication_role = replica'); // disables the append-only triggers
    await fn();
    await c.query('commit');
  };
  try {
    const saved = (await c.query<StoredRow>('select * from audit_log order by id')).rows;
    await asOwner(() => change(c, saved));
    try {
      await check();
    } finally {
      await asOwner(async () => {
        await c.query('delete from audit_log');
        await c.query('insert into audit_log select * from jsonb_populate_recordset(null::audit_log, $1)', [JSON.stringify(saved)]);
      });
    }
  } finally {
    c.release();
  }
}

/** Recomputes every link from row 1 with `link`, as someone rewriting the whole chain would. */
async function rewriteChain(c: pg.PoolClient, rows: StoredRow[], alg: 'sha256' | 'hmac-sha256', link: (prev: string, row: Parameters<typeof rowHash>[1]) => string): Promise<void> {
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const details = r.id === '2' ? { rewritten: true } : r.details;
    const hash = link(prev, { id: Number(r.id), ts: r.ts.toISOString(), userId: r.user_id, accountId: r.account_id, action: r.action, details });
    await c.query('update audit_log set details = $2, prev_hash = $3, hash = $4, alg = $5 where id = $1', [r.id, JSON.stringify(details), prev, hash, alg]);
    prev = hash;
  }
}

describe('the keyed audit chain', () => {
  it('appends in the caller transaction: a rollback takes the audit row with it', async () => {
    const before = await auditCount();
    await expect(
      t.app.db.transaction(async (tx) => {
        await appendAudit(tx, { action: 'test.rolled-back', details: { n: 1 } }, clock);
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    expect(await auditCount()).toBe(before);
    const row = await t.app.db.transaction((tx) => appendAudit(tx, { action: 'test.kept', details: { nested: { b: 2, a: [1, 'x'] } } }, clock));
    expect(row.id).toBe(before + 1);
    expect(row).toMatchObject({ alg: 'hmac-sha256', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // keyed: the plain SHA-256 of the same row is not its hash
    expect(row.hash).not.toBe(rowHash(row.prevHash, { ...row, ts: row.ts.toISOString() }));
    expect(await verify()).toMatchObject({ ok: true, rows: before + 1, keyedFrom: 1 });
  });

  it('appends rows without a user or an account (failed logins), as the runtime role', async () => {
    const row = await t.app.db.transaction((tx) => appendAudit(tx, { action: 'auth.login-failed', userId: null, accountId: null, details: { email: 'nobody@example.com', reason: 'unknown' } }, clock));
    expect(row).toMatchObject({ userId: null, accountId: null, action: 'auth.login-failed' });
    expect(await verify()).toMatchObject({ ok: true });
  });

  it.each([
    ['UPDATE', "update audit_log set action = 'x'"],
    ['DELETE', 'delete from audit_log'],
    ['TRUNCATE', 'truncate audit_log'],
  ])('refuses %s from the application role and from the table owner', async (_op, statement) => {
    // drizzle wraps the driver error; the database's own message is the cause
    await expect(t.app.db.execute(sql.raw(statement))).rejects.toSatisfy((e: Error) => /permission denied/.test(String((e.cause as Error)?.message)));
    await expect(t.owner.query(statement)).rejects.toThrow(/append-only/);
    expect(await auditCount()).toBeGreaterThan(0);
  });

  it('keeps one linear chain under parallel writers', async () => {
    const before = await auditCount();
    const writers = 40;
    await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        t.app.db.transaction(async (tx) => {
          await tx.execute(sql`select pg_sleep(${(i % 5) / 1000})`);
          await appendAudit(tx, { action: 'test.parallel', details: { i } }, clock);
        }),
      ),
    );
    const ids = (await t.owner.query('select id from audit_log order by id')).rows.map((r: { id: string }) => Number(r.id));
    expect(ids).toEqual(Array.from({ length: before + writers }, (_, i) => i + 1));
    const prevLinks = await t.owner.query('select count(*) as n from audit_log a join audit_log b on b.id = a.id - 1 where a.prev_hash <> b.hash');
    expect(Number(prevLinks.rows[0].n)).toBe(0);
    expect(await verify()).toMatchObject({ ok: true, rows: before + writers });
  });

  it('a clean chain verifies against its anchors; the anchor log is appended, fsyncd, 0600, and skips an unchanged head', async () => {
    const first = await anchorHead(t.app.db, anchorsFile, clock);
    expect(first).toMatchObject({ written: true, keyedFrom: 1, mismatch: null, head: { seq: await auditCount() } });
    expect(statSync(anchorsFile).mode & 0o777).toBe(0o600);
    expect(await anchorHead(t.app.db, anchorsFile, clock)).toMatchObject({ written: false, mismatch: null });
    await append('test.after-anchor');
    expect(await anchorHead(t.app.db, anchorsFile, clock)).toMatchObject({ written: true, head: { seq: first.head!.seq + 1 } });
    expect(await anchors()).toHaveLength(2);
    expect(await verify()).toMatchObject({ ok: true, anchors: 2, seq: first.head!.seq + 1 });
  });

  it('detects a single row edited out of band, in the verifier and the CLI (exit 1, naming the row)', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    await tampered(
      (c) => c.query(`update audit_log set details = '{"tampered": true}' where id = 3`).then(() => undefined),
      async () => {
        expect(await verify()).toMatchObject({ ok: false, badId: 3, reason: expect.stringMatching(/hash does not match/) });
        const cli = aether(['audit', 'verify']);
        expect(cli.status, cli.stderr).toBe(1);
        expect(cli.stderr).toContain('audit chain BROKEN at row 3');
      },
    );
    const clean = aether(['audit', 'verify']);
    expect(clean.status, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^audit chain ok: \d+ rows, head #\d+ [0-9a-f]{64}; all keyed/m);
    expect(clean.stdout).toMatch(/anchors: 1 in .*, every one matches/);
  }, CLI_TIMEOUT);

  it('detects a deleted row', async () => {
    await tampered(
      (c) => c.query('delete from audit_log where id = 2').then(() => undefined),
      async () => expect(await verify()).toMatchObject({ ok: false, badId: 2, reason: expect.stringMatching(/missing/) }),
    );
  });

  it('detects a chain rewritten end to end with a wrong key (someone with the database but not the key)', async () => {
    const wrong = randomBytes(32);
    await tampered(
      (c, rows) => rewriteChain(c, rows, 'hmac-sha256', (prev, row) => rowHmac(wrong, prev, row)),
      async () => expect(await verify()).toMatchObject({ ok: false, badId: 1, reason: expect.stringMatching(/under the audit key/) }),
    );
    // …and the honest chain does not verify under a wrong key either
    expect(await verifyAudit(t.app.db, { key: wrong, anchors: [] })).toMatchObject({ ok: false, badId: 1 });
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('detects a chain rewritten end to end as unkeyed (plain SHA-256) rows, by the anchored switch point', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    await tampered(
      (c, rows) => rewriteChain(c, rows, 'sha256', rowHash),
      async () => expect(await verify()).toMatchObject({ ok: false, badId: 1, reason: expect.stringMatching(/anchors record keyed rows from row 1/) }),
    );
  });

  it('refuses an unkeyed row after a keyed one, anchors or not', async () => {
    const head = await auditCount();
    await tampered(
      async (c, rows) => {
        const last = rows.at(-1)!;
        const hash = rowHash(last.prev_hash, { id: head, ts: last.ts.toISOString(), userId: null, accountId: null, action: 'forged', details: {} });
        await c.query(`update audit_log set action = 'forged', details = '{}', user_id = null, account_id = null, hash = $2, alg = 'sha256' where id = $1`, [head, hash]);
      },
      async () => expect(await verifyAudit(t.app.db, { key: key(), anchors: [] })).toMatchObject({ ok: false, badId: head, reason: expect.stringMatching(/unkeyed .* after the keyed rows/) }),
    );
  });

  it('detects a truncated tail: the head is older than the last anchor', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    const head = await auditCount();
    await tampered(
      (c) => c.query('delete from audit_log where id > $1', [head - 3]).then(() => undefined),
      async () => {
        expect(await verify()).toMatchObject({ ok: false, badId: head - 2, reason: expect.stringMatching(new RegExp(`ends at row ${head - 3} but row ${head} was anchored`)) });
        // reported, and not anchored over: again on the next run
        for (let run = 0; run < 2; run++)
          expect(await anchorHead(t.app.db, anchorsFile, clock)).toMatchObject({ written: false, mismatch: expect.stringMatching(new RegExp(`row ${head}, anchored at .*, is gone`)) });
        expect(await anchors()).toHaveLength(1);
      },
    );
  });

  it('detects a truncated tail written over again: an anchored (seq, hash) no longer matches', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    const head = await auditCount();
    await tampered(
      async (c) => {
        await c.query('delete from audit_log where id > $1', [head - 2]);
        await c.query('commit');
        // the application goes on appending, with the real key, over the cut
        for (let i = 0; i < 3; i++) await append('test.after-cut', { i });
        await c.query('begin');
      },
      async () => expect(await verify()).toMatchObject({ ok: false, badId: head, reason: expect.stringMatching(/not the row anchored at/) }),
    );
  });

  it('reads past a torn anchor line (a crash mid-write) and closes it off before appending', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    appendFileSync(anchorsFile, '{"seq":1,"hash":"ab');
    await append('test.after-torn');
    expect(await anchorHead(t.app.db, anchorsFile, clock)).toMatchObject({ written: true });
    const log = await readAnchorLog(anchorsFile);
    expect(log).toMatchObject({ unreadable: [2] });
    expect(log.anchors).toHaveLength(2);
    expect(readFileSync(anchorsFile, 'utf8').endsWith('}\n')).toBe(true);
    expect(await verify()).toMatchObject({ ok: true, anchors: 2 });
  });

  it('the CLI reads an anchor log given with --anchors and refuses one that does not exist', async () => {
    await anchorHead(t.app.db, anchorsFile, clock);
    const bad = aether(['audit', 'verify', '--anchors', join(dir, 'nope.jsonl')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('no anchor log at');
    await tampered(
      (c) => c.query('delete from audit_log where id = (select max(id) from audit_log)').then(() => undefined),
      async () => {
        const cli = aether(['audit', 'verify', '--anchors', anchorsFile], { AETHER_AUDIT_ANCHORS: join(dir, 'unused.jsonl') });
        expect(cli.status, cli.stderr).toBe(1);
        expect(cli.stderr).toMatch(/rows were removed from the tail/);
      },
    );
  }, CLI_TIMEOUT);

  it('`aether audit anchor` (the cluster CronJob) appends the head, and exits 1 once the database lost the anchored row', async () => {
    const ok = aether(['audit', 'anchor']);
    expect(ok.status, ok.stderr).toBe(0);
    const head = await auditCount();
    expect(ok.stdout).toMatch(new RegExp(`^anchored head #${head} [0-9a-f]{64} in ${anchorsFile}`));
    expect(await anchors()).toMatchObject([{ seq: head, keyedFrom: 1 }]);
    await tampered(
      (c) => c.query('delete from audit_log where id = $1', [head]).then(() => undefined),
      async () => {
        const cut = aether(['audit', 'anchor']);
        expect(cut.status).toBe(1);
        expect(cut.stderr).toMatch(new RegExp(`does not match its last anchor: row ${head}, anchored at .*, is gone`));
      },
    );
  }, CLI_TIMEOUT);

  it('the CLI without the audit key cannot vouch for keyed rows (exit 1)', () => {
    const cli = aether(['audit', 'verify'], { AETHER_AUDIT_KEY: undefined });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/BROKEN at row 1: a keyed row, but no audit key/);
  }, CLI_TIMEOUT);
});

function aether(argv: string[], env: Record<string, string | undefined> = {}) {
  const merged: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: t.url, AETHER_AUDIT_ANCHORS: anchorsFile, LOG_LEVEL: 'silent', SECRETS_DIR: dir, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return spawnSync(process.execPath, ['bin/aether.js', ...argv], { env: merged, encoding: 'utf8', timeout: 60_000 });
}

describe('the audit key', () => {
  it('embedded: generated once into AETHER_HOME (0600) and found again; never generated by a verifier', () => {
    const home = join(dir, 'home');
    const config = parseConfig({ AETHER_HOME: home });
    expect(findAuditKey(config)).toBeNull();
    const k = loadAuditKey(config);
    expect(k).toHaveLength(32);
    expect(statSync(join(home, 'audit.key')).mode & 0o777).toBe(0o600);
    expect(loadAuditKey(config).equals(k)).toBe(true);
    expect(findAuditKey(config)?.equals(k)).toBe(true);
  });

  it('cluster: from AETHER_AUDIT_KEY or the aether-audit-key secret file, and never made up', () => {
    const secrets = join(dir, 'secrets');
    const cluster = { DATABASE_URL: 'postgres://u@db/aether', SECRETS_DIR: secrets, AETHER_HOME: join(dir, 'pod') };
    expect(() => loadAuditKey(parseConfig(cluster))).toThrow(/aether-audit-key/);
    expect(findAuditKey(parseConfig(cluster))).toBeNull();
    const k = randomBytes(32);
    mkdirSync(secrets);
    writeFileSync(join(secrets, 'aether-audit-key'), k.toString('base64') + '\n');
    expect(loadAuditKey(parseConfig(cluster)).equals(k)).toBe(true);
    expect(() => parseConfig({ AETHER_AUDIT_KEY: 'short' })).toThrow(/AETHER_AUDIT_KEY: must be 32 bytes/);
  });
});

describe('a chain written before the key (plain SHA-256), migrated', () => {
  let url: string;
  let name: string;
  let app: Database | null = null;
  afterAll(async () => {
    await app?.close();
    const c = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });

  it('keeps verifying: old rows as plain SHA-256, keyed rows from the next one on, linked to the last plain row; the switch point is anchored', async () => {
    // A database as the previous release left it: migrated up to before 0011, audited unkeyed.
    name = `aether_t_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(inject('adminDatabaseUrl'));
    u.pathname = `/${name}`;
    url = u.toString();
    const before = join(dir, 'migrations-before-0011');
    cpSync(migrationsFolder, before, { recursive: true });
    const journalFile = join(before, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
    journal.entries = journal.entries.filter((e) => e.tag < '0011');
    writeFileSync(journalFile, JSON.stringify(journal));
    const owner = await openDatabase({ url, driver: 'pg', asAppRole: false, max: 1 });
    await migrate(owner.db as never, { migrationsFolder: before });
    await owner.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    let prev = GENESIS_HASH;
    for (let id = 1; id <= 3; id++) {
      const row = { id, ts: new Date(Date.UTC(2026, 0, id)).toISOString(), userId: null, accountId: null, action: 'legacy', details: { id } };
      const hash = rowHash(prev, row);
      await c.query('insert into audit_log (id, ts, user_id, account_id, action, details, prev_hash, hash) values ($1, $2, null, null, $3, $4, $5, $6)', [id, row.ts, row.action, JSON.stringify(row.details), prev, hash]);
      prev = hash;
    }

    await migrateDatabase(url, 'pg'); // 0011: no row rewritten, none refused by the append-only triggers
    expect((await c.query('select alg from audit_log order by id')).rows.map((r: { alg: string }) => r.alg)).toEqual(['sha256', 'sha256', 'sha256']);
    app = await openDatabase({ url, driver: 'pg', max: 2 });
    const db = app.db;
    for (let i = 0; i < 2; i++) await db.transaction((tx) => appendAudit(tx, { action: 'keyed', details: { i } }, clock));
    const fourth = (await c.query('select prev_hash, alg from audit_log where id = 4')).rows[0];
    expect(fourth).toEqual({ prev_hash: prev, alg: 'hmac-sha256' });
    expect(await verifyAudit(db, { key: key(), anchors: [] })).toMatchObject({ ok: true, rows: 5, keyedFrom: 4 });

    const log = join(dir, 'legacy-anchors.jsonl');
    expect(await anchorHead(db, log, clock)).toMatchObject({ written: true, keyedFrom: 4, head: { seq: 5 } });
    const anchored = (await readAnchorLog(log)).anchors;
    expect(await verifyAudit(db, { key: key(), anchors: anchored })).toMatchObject({ ok: true, keyedFrom: 4, anchors: 1 });

    // Rewriting the keyed rows as "old" plain rows (no key needed) is refused at the anchored switch point.
    await c.query('begin');
    await c.query('set local session_replication_role = replica');
    const rows = (await c.query<StoredRow>('select * from audit_log where id >= 4 order by id')).rows;
    for (const r of rows) {
      const hash = rowHash(prev, { id: Number(r.id), ts: r.ts.toISOString(), userId: r.user_id, accountId: r.account_id, action: r.action, details: r.details });
      await c.query(`update audit_log set prev_hash = $2, hash = $3, alg = 'sha256' where id = $1`, [r.id, prev, hash]);
      prev = hash;
    }
    await c.query('commit');
    await c.end();
    expect(await verifyAudit(db, { key: key(), anchors: anchored })).toMatchObject({ ok: false, badId: 4, reason: expect.stringMatching(/anchors record keyed rows from row 4/) });
  });
});
