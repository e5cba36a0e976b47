import { spawnSync } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, verifyAudit } from '../../lib/audit/index.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
const clock = new VirtualClock(Date.parse('2026-03-01T00:00:00Z'));

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.drop());

const auditCount = async (): Promise<number> => Number((await t.owner.query('select count(*) as n from audit_log')).rows[0].n);

describe('audit chain', () => {
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
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyAudit(t.app.db)).toMatchObject({ ok: true, rows: before + 1 });
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
    expect(await verifyAudit(t.app.db)).toMatchObject({ ok: true, rows: before + writers });
  });

  it('detects a row edited out of band (superuser, triggers disabled), in the API verifier and the CLI', async () => {
    const target = 3;
    const c = await t.owner.connect();
    try {
      await c.query('begin');
      await c.query('set local session_replication_role = replica'); // disables the append-only triggers
      await c.query(`update audit_log set details = '{"tampered": true}' where id = $1`, [target]);
      await c.query('commit');
    } finally {
      c.release();
    }
    expect(await verifyAudit(t.app.db)).toMatchObject({ ok: false, badId: target, reason: expect.stringMatching(/hash/) });

    const cli = spawnSync(process.execPath, ['bin/aether.js', 'audit', 'verify'], {
      env: { ...process.env, DATABASE_URL: t.url, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`row ${target}`);
  });

  it('detects a deleted row', async () => {
    const c = await t.owner.connect();
    try {
      await c.query('begin');
      await c.query('set local session_replication_role = replica');
      await c.query("update audit_log set details = '{\"tampered\": true}' where id = 3"); // keep row 3 as it was tampered
      await c.query('delete from audit_log where id = 2');
      await c.query('commit');
    } finally {
      c.release();
    }
    const r = await verifyAudit(t.app.db);
    expect(r).toMatchObject({ ok: false, badId: 2, reason: expect.stringMatching(/missing/) });
  });
});
