import { neonConfig } from '@neondatabase/serverless';
import { sql } from 'drizzle-orm';
import ws from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, pgErrorCode, rowsOf, type Database } from '../../lib/db/client.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { settings } from '../../schema/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startNeonProxy, type NeonProxy } from '../helpers/neon-proxy.ts';

/**
 * The Neon serverless driver end to end: the real `@neondatabase/serverless` Pool talking the
 * PostgreSQL protocol over WebSockets, through a local wsproxy, to the test PostgreSQL.
 */
let testDb: TestDatabase;
let proxy: NeonProxy;
let neonDb: Database;
let accountA: string;
let accountB: string;
let dropping = false;

beforeAll(async () => {
  testDb = await createTestDatabase();
  // pg-pool's end() resolves before its sockets close, so drop()'s `drop database … with (force)` can
  // terminate an owner connection still closing (57P01), which the pool re-emits as 'error'. Only
  // that case, during drop, is expected; anything else still fails the run.
  testDb.owner.on('error', (err) => {
    if (dropping && pgErrorCode(err) === '57P01') return;
    throw err;
  });
  proxy = await startNeonProxy();
  neonConfig.webSocketConstructor = ws;
  neonConfig.useSecureWebSocket = false; // plain ws:// to the local proxy
  neonConfig.pipelineConnect = false; // the local server may not use password auth
  neonConfig.wsProxy = proxy.wsProxy;
  neonDb = await openDatabase({ url: testDb.url, driver: 'neon', max: 3 });
  const r = await testDb.owner.query<{ id: string }>(
    `insert into accounts (slug, name, kind) values ('neon-a', 'Neon A', 'company'), ('neon-b', 'Neon B', 'director') returning id`,
  );
  [accountA, accountB] = r.rows.map((row) => row.id) as [string, string];
});

afterAll(async () => {
  await neonDb?.close();
  await proxy?.close();
  dropping = true;
  await testDb?.drop();
});

const settingsRow = (accountId: string, version: number, value: Record<string, unknown>) => ({ accountId, kind: 'risk' as const, version, value });

describe('the neon driver through a WebSocket proxy', () => {
  it('runs queries, and they really go through the proxy', async () => {
    const before = proxy.bytesToClient;
    const r = rowsOf<{ n: number; v: string }>(await neonDb.db.execute(sql`select 41 + 1 as n, version() as v`));
    expect(r[0]?.n).toBe(42);
    expect(r[0]?.v).toMatch(/^PostgreSQL/);
    expect(neonDb.driver).toBe('neon');
    expect(proxy.connections).toBeGreaterThanOrEqual(1);
    expect(proxy.bytesToClient).toBeGreaterThan(before);
  });

  it('runs every query as aether_app', async () => {
    const r = rowsOf<{ current_user: string; session_user: string }>(await neonDb.db.execute(sql`select current_user, session_user`));
    expect(r[0]?.current_user).toBe('aether_app');
    expect(r[0]?.session_user).not.toBe('aether_app'); // the login role switched to it at startup
  });

  it('isolates two accounts with withAccount and row-level security', async () => {
    await withAccount(neonDb.db, accountA, (tx) => tx.insert(settings).values(settingsRow(accountA, 1, { maxExposure: 0.5 })));
    await withAccount(neonDb.db, accountB, (tx) => tx.insert(settings).values(settingsRow(accountB, 1, { maxExposure: 0.2 })));

    const seenByA = await withAccount(neonDb.db, accountA, (tx) => tx.select().from(settings));
    const seenByB = await withAccount(neonDb.db, accountB, (tx) => tx.select().from(settings));
    expect(seenByA.map((s) => [s.accountId, s.value])).toEqual([[accountA, { maxExposure: 0.5 }]]);
    expect(seenByB.map((s) => [s.accountId, s.value])).toEqual([[accountB, { maxExposure: 0.2 }]]);

    // No account in scope: the policy shows nothing.
    expect(await neonDb.db.select().from(settings)).toEqual([]);

    // Writing another account's row from A's scope is refused by the policy's WITH CHECK.
    const err = await withAccount(neonDb.db, accountA, (tx) => tx.insert(settings).values(settingsRow(accountB, 2, { sneaky: true }))).catch((e: unknown) => e);
    expect(pgErrorCode(err)).toBe('42501');

    // The owner (no RLS) confirms exactly the two legitimate rows exist.
    const all = await testDb.owner.query(`select account_id, version from settings order by account_id`);
    expect(all.rows).toHaveLength(2);
  });

  it('does not carry the account scope into later work on a pooled connection', async () => {
    await withAccount(neonDb.db, accountA, (tx) => tx.select().from(settings));
    const r = rowsOf<{ scope: string | null }>(await neonDb.db.execute(sql`select nullif(current_setting('aether.account_id', true), '') as scope`));
    expect(r[0]?.scope).toBeNull();
  });

  it('rolls a transaction back when it throws', async () => {
    const boom = new Error('abort after insert');
    await expect(
      withAccount(neonDb.db, accountA, async (tx) => {
        await tx.insert(settings).values(settingsRow(accountA, 99, { rolledBack: true }));
        const inside = await tx.select().from(settings);
        expect(inside.some((s) => s.version === 99)).toBe(true); // visible inside the transaction
        throw boom;
      }),
    ).rejects.toBe(boom);
    const after = await testDb.owner.query(`select 1 from settings where version = 99`);
    expect(after.rowCount).toBe(0);
  });

  it('rolls back on a database error too, leaving earlier statements of the transaction undone', async () => {
    const err = await withAccount(neonDb.db, accountB, async (tx) => {
      await tx.insert(settings).values(settingsRow(accountB, 50, { first: true }));
      await tx.insert(settings).values(settingsRow(accountB, 50, { duplicateKey: true }));
    }).catch((e: unknown) => e);
    expect(pgErrorCode(err)).toBe('23505');
    const after = await testDb.owner.query(`select 1 from settings where version = 50`);
    expect(after.rowCount).toBe(0);
  });

  it.each([
    ['a non-loopback target', '/v2?address=10.1.2.3:5432'],
    ['no address', '/v2'],
    ['another path', '/v1?address=127.0.0.1:5432'],
  ])('has the proxy refuse %s (it is no open relay)', async (_label, path) => {
    const before = proxy.connections;
    const client = new ws(`ws://127.0.0.1:${proxy.port}${path}`);
    const code = await new Promise<number>((resolve, reject) => {
      client.once('close', (c) => resolve(c));
      client.once('error', reject);
    });
    expect(code).toBe(1008);
    expect(proxy.connections).toBe(before);
  });
});
