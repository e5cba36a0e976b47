import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Tx } from '../../lib/db/client.ts';
import { oneTripForAccount, withAccount, withGlobal } from '../../lib/db/scope.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * Row-level security over EVERY account-scoped table: work inside account A's scope can neither read
 * nor write account B's rows. The table list comes from the database itself, so a new table with an
 * account_id column is covered (or fails the first test) without anyone editing this file.
 */
let t: TestDatabase;
let A: string;
let B: string;
let tables: string[];

interface Column {
  column_name: string;
  data_type: string;
  is_nullable: 'YES' | 'NO';
  column_default: string | null;
}
const columns = new Map<string, Column[]>();

/** The account-scoped tables; the first test proves this list is exactly the database's. */
const SCOPED = [
  'account_cycles',
  'balance_snapshots',
  'credentials',
  'daily_pnl',
  'equity_snapshots',
  'fills',
  'hedge_history',
  'hedge_state',
  'kraken_nonces',
  'kraken_secret_sync',
  'orders',
  'positions',
  'risk_events',
  'settings',
  'sim_state',
  'trading_state',
];

// Identity tables read before any account scope exists; documented in schema/memberships.ts.
const NOT_ACCOUNT_SCOPED = new Set(['memberships', 'audit_log']);

beforeAll(async () => {
  t = await createTestDatabase();
  const acc = await t.owner.query(
    "insert into accounts (slug, name, kind) values ('rls-a', 'A', 'other'), ('rls-b', 'B', 'other') returning id",
  );
  [A, B] = acc.rows.map((r: { id: string }) => r.id) as [string, string];
  const r = await t.owner.query<{ table_name: string }>(
    "select table_name from information_schema.columns where table_schema = 'public' and column_name = 'account_id' order by table_name",
  );
  tables = r.rows.map((x) => x.table_name).filter((n) => !NOT_ACCOUNT_SCOPED.has(n));
  for (const table of tables) {
    const c = await t.owner.query<Column>(
      "select column_name, data_type, is_nullable, column_default from information_schema.columns where table_schema = 'public' and table_name = $1 order by ordinal_position",
      [table],
    );
    columns.set(table, c.rows);
  }
});
afterAll(() => t?.drop());

const literal = (c: Column, suffix: string): string => {
  switch (c.data_type) {
    case 'uuid':
      return 'gen_random_uuid()';
    case 'numeric':
    case 'integer':
    case 'bigint':
      return '1';
    case 'real':
    case 'double precision':
      return '0.5';
    case 'timestamp with time zone':
      return 'now()';
    case 'jsonb':
      return `'{}'::jsonb`;
    case 'boolean':
      return 'true';
    case 'ARRAY':
      return `'{}'`;
    case 'text':
      return `'x${suffix}'`;
    default:
      throw new Error(`no sample value for ${c.data_type} (${c.column_name})`);
  }
};

/** Enum-like text columns need a value the application would write; the database does not restrict them. */
const TEXT_VALUES: Record<string, string> = { side: 'buy', mode: 'sim', kind: 'risk', state: 'ACTIVE', status: 'open', liquidity: 'taker', provider: 'kraken', storage: 'encrypted', intent: 'entry', cause: 'entry' };

/** A minimal valid row of `table` for `account`, as an INSERT statement. */
async function sampleInsert(tx: Tx, table: string, account: string, forAccount = account): Promise<string> {
  const cols: string[] = [];
  const vals: string[] = [];
  for (const c of columns.get(table)!) {
    if (c.column_name === 'account_id') {
      cols.push('account_id');
      vals.push(`'${forAccount}'`);
    } else if (c.column_name === 'order_id') {
      // fills reference an order of the same account
      const o = rowsOf<{ id: string }>(
        await tx.execute(
          sql.raw(
            `insert into orders (account_id, client_id, mode, pair, side, type, intent, cause, amount, status, decided_at) values ('${account}', 'cid-${Math.random()}', 'sim', 'BTC/USD', 'buy', 'market', 'entry', 'entry', 1, 'open', now()) returning id`,
          ),
        ),
      );
      cols.push('order_id');
      vals.push(`'${o[0]!.id}'`);
    } else if (c.is_nullable === 'NO' && c.column_default === null) {
      cols.push(c.column_name);
      vals.push(c.data_type === 'text' && TEXT_VALUES[c.column_name] ? `'${TEXT_VALUES[c.column_name]}'` : literal(c, Math.random().toString(36).slice(2, 8)));
    }
  }
  return `insert into ${table} (${cols.join(', ')}) values (${vals.join(', ')})`;
}

const count = async (tx: Tx, q: string): Promise<number> => Number(rowsOf<{ n: string }>(await tx.execute(sql.raw(q)))[0]!.n);

describe('row-level security', () => {
  it('covers every table with an account_id column, which is NOT NULL and has RLS and a policy', async () => {
    expect(tables).toEqual([...SCOPED].sort());
    for (const table of tables) {
      const col = columns.get(table)!.find((c) => c.column_name === 'account_id')!;
      expect(col.is_nullable, `${table}.account_id`).toBe('NO');
      const r = await t.owner.query(
        "select c.relrowsecurity, c.relforcerowsecurity, (select count(*) from pg_policies p where p.tablename = c.relname) as policies from pg_class c where c.relname = $1",
        [table],
      );
      expect(r.rows[0].relrowsecurity, `${table} has RLS enabled`).toBe(true);
      expect(Number(r.rows[0].policies), `${table} has a policy`).toBeGreaterThan(0);
    }
  });

  it('runs application work as aether_app, which owns no table and cannot bypass RLS', async () => {
    const r = rowsOf<{ u: string; bypass: boolean; owns: string }>(
      await t.app.db.execute(
        sql`select current_user as u, (select rolbypassrls from pg_roles where rolname = current_user) as bypass, (select count(*) from pg_tables where tableowner = current_user) as owns`,
      ),
    );
    expect(r[0]).toEqual({ u: 'aether_app', bypass: false, owns: '0' });
  });

});

describe.each(SCOPED)('RLS on %s', (table) => {
  it('is in the database list of account-scoped tables', () => {
    expect(tables).toContain(table);
  });

  it("A's scope cannot read, change or create B's rows", async () => {
    const db = t.app.db;
    await withAccount(db, A, async (tx) => void (await tx.execute(sql.raw(await sampleInsert(tx, table, A)))));
    await withAccount(db, B, async (tx) => void (await tx.execute(sql.raw(await sampleInsert(tx, table, B)))));
    const ownerCount = await t.owner.query(`select count(*) as n from ${table} where account_id in ($1, $2)`, [A, B]);
    expect(Number(ownerCount.rows[0].n)).toBeGreaterThanOrEqual(2);

    await withAccount(db, A, async (tx) => {
      expect(await count(tx, `select count(*) as n from ${table} where account_id = '${B}'`)).toBe(0);
      expect(await count(tx, `select count(*) as n from ${table}`)).toBe(await count(tx, `select count(*) as n from ${table} where account_id = '${A}'`));
      const upd = await tx.execute(sql.raw(`update ${table} set account_id = account_id where account_id = '${B}'`));
      expect((upd as unknown as { rowCount: number }).rowCount).toBe(0);
      const del = await tx.execute(sql.raw(`delete from ${table} where account_id = '${B}'`));
      expect((del as unknown as { rowCount: number }).rowCount).toBe(0);
    });
    // Writing a row for B from A's scope violates the policy's WITH CHECK.
    await expect(
      withAccount(db, A, async (tx) => void (await tx.execute(sql.raw(await sampleInsert(tx, table, A, B))))),
    ).rejects.toThrow();
    // Moving A's row to B is refused too.
    await expect(withAccount(db, A, (tx) => tx.execute(sql.raw(`update ${table} set account_id = '${B}' where account_id = '${A}'`)))).rejects.toThrow();
    // With no account in scope nothing is visible.
    await withGlobal(db, async (tx) => expect(await count(tx, `select count(*) as n from ${table}`)).toBe(0));
    // B's rows are all still there.
    const after = await t.owner.query(`select count(*) as n from ${table} where account_id = $1`, [B]);
    expect(Number(after.rows[0].n)).toBeGreaterThanOrEqual(1);
  });
});

describe('oneTripForAccount (scope and statement in one round trip)', () => {
  it("runs in the account's scope only, and an error rolls the scope back with the statement", async () => {
    const db = t.app.db;
    await t.owner.query("delete from kraken_nonces where account_id in ($1, $2)", [A, B]);
    // The statement sees and writes only its own account's rows.
    expect(await oneTripForAccount<{ account_id: string }>(db, A, { sql: "insert into kraken_nonces (account_id, last_nonce) values (current_setting('aether.account_id')::uuid, $1) returning account_id", params: ['7'] })).toEqual([{ account_id: A }]);
    await t.owner.query("insert into kraken_nonces (account_id, last_nonce) values ($1, '9')", [B]);
    expect(await oneTripForAccount(db, A, { sql: 'select account_id, last_nonce from kraken_nonces', params: [] })).toEqual([{ account_id: A, last_nonce: '7' }]);
    // Writing another account's row is refused by the policy, and nothing of the trip stays.
    await expect(oneTripForAccount(db, A, { sql: `update kraken_nonces set last_nonce = $1; insert into kraken_nonces (account_id, last_nonce) values ($2, $3)`, params: ['8', B, '1'] })).rejects.toThrow();
    expect((await t.owner.query('select last_nonce from kraken_nonces where account_id = $1', [A])).rows).toEqual([{ last_nonce: '7' }]);
    // The scope ended with the trip: every pooled connection is back to no account.
    const scopes = await Promise.all(Array.from({ length: 12 }, () => oneTripForAccount<{ n: number }>(db, B, { sql: 'select 1 as n', params: [] }).then(() => withGlobal(db, (tx) => count(tx, 'select count(*) as n from kraken_nonces')))));
    expect(scopes.every((n) => n === 0)).toBe(true);
    // Values are literals, quotes and backslashes included, never SQL.
    const text = "it's a \\'; drop table kraken_nonces; --";
    expect(await oneTripForAccount(db, A, { sql: 'select $1::text as v, $2::jsonb as j, $3::numeric as n', params: [text, JSON.stringify({ q: text }), 1.5] })).toEqual([{ v: text, j: { q: text }, n: '1.5' }]);
    await expect(oneTripForAccount(db, 'not-a-uuid', { sql: 'select 1', params: [] })).rejects.toThrow();
  });
});
