import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../lib/db/client.ts';
import { migrationsFolder } from '../../lib/db/migrate.ts';

/**
 * Migration 0012 on a database the previous release left: every existing order and fill gets the
 * cause the cycle meant (from intent, type and the reason it wrote), also when the migration runs as
 * a non-superuser table owner — row-level security is forced on orders and fills (0008), so a naive
 * backfill would see no rows at all.
 */
const dir = mkdtempSync(join(tmpdir(), 'aether-0012-'));
const name = `aether_t_${randomBytes(5).toString('hex')}`;
const role = `aether_mig_${randomBytes(4).toString('hex')}`;
const admin = inject('adminDatabaseUrl');
const urlOf = (user?: { name: string; password: string }): string => {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  if (user) {
    u.username = user.name;
    u.password = user.password;
  }
  return u.toString();
};
const adminQuery = async (q: string): Promise<void> => {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try {
    await c.query(q);
  } finally {
    await c.end();
  }
};

/** A copy of the migrations folder whose journal stops at `last` (inclusive). */
function migrationsUpTo(last: string): string {
  const folder = join(dir, `migrations-to-${last}`);
  cpSync(migrationsFolder, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => e.tag.slice(0, 4) <= last);
  writeFileSync(journalFile, JSON.stringify(journal));
  return folder;
}

afterAll(async () => {
  await adminQuery(`drop database if exists ${name} with (force)`);
  await adminQuery(`drop role if exists ${role}`);
  rmSync(dir, { recursive: true, force: true });
});

/** [intent, type, reason] of an order before 0012, and the cause it must get. */
const ORDERS: Array<[string, string, string | null, string]> = [
  ['entry', 'market', 'probUp 0.71 ≥ 0.6; SL 2.00% TP 3.00%', 'entry'],
  ['exit', 'market', 'stop-loss 98 hit (≈97.5)', 'stop'],
  ['exit', 'market', 'take-profit 120 hit (≈121)', 'take-profit'],
  ['exit', 'market', 'probUp 0.31 ≤ exit 0.45', 'signal'],
  ['exit', 'market', 'flatten on HALTED: drawdown 16% ≥ 15%', 'halt'],
  ['flatten', 'market', null, 'halt'],
  ['hedge', 'market', 'hedge rebalance: 10.0% → 30.0% USD', 'hedge'],
  ['stop-move', 'stop-loss', 'trail stop 95 → 97', 'stop-move'],
  ['protective', 'stop-loss', '0.5 of 1 ETH held without a stop', 'protect'],
  ['protective', 'stop-loss', 'protective order attached to an entry (found by its fill)', 'stop'],
  ['protective', 'stop-loss', 'conditional close of 0191', 'stop'],
  ['protective', 'take-profit', 'conditional close of 0192', 'take-profit'],
];
/** What a fill of each of those orders is: a fired protect/stop-move stop is a stop. */
const FILL_CAUSE: Record<string, string> = { entry: 'entry', stop: 'stop', 'take-profit': 'take-profit', signal: 'signal', halt: 'halt', hedge: 'hedge', 'stop-move': 'stop', protect: 'stop' };

describe('migration 0012 (order and fill causes)', () => {
  it('backfills every order and fill, run by a non-superuser owner under forced row-level security; new rows must name a known cause', async () => {
    await adminQuery(`create database ${name}`);
    const superuser = await openDatabase({ url: urlOf(), driver: 'pg', asAppRole: false, max: 1 });
    await migrate(superuser.db as never, { migrationsFolder: migrationsUpTo('0011') });
    await superuser.close();

    const c = new pg.Client({ connectionString: urlOf() });
    await c.connect();
    try {
      const [acc] = (await c.query(`insert into accounts (slug, name, kind) values ('mig-a', 'A', 'other') returning id`)).rows as Array<{ id: string }>;
      for (const [k, [intent, type, reason]] of ORDERS.entries()) {
        const side = intent === 'entry' ? 'buy' : 'sell';
        const [o] = (
          await c.query(
            `insert into orders (account_id, client_id, mode, pair, side, type, intent, amount, status, reason, decided_at) values ($1, $2, 'sim', 'ETH/USD', $3, $4, $5, 1, 'closed', $6, now()) returning id`,
            [acc!.id, `c-${k}`, side, type, intent, reason],
          )
        ).rows as Array<{ id: string }>;
        await c.query(
          `insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, ts) values ($1, $2, $3, $4, 'ETH/USD', $5, 100, 1, 0.26, 0, 'taker', now())`,
          [acc!.id, o!.id, `t-${k}`, `c-${k}`, side],
        );
      }

      // The previous release's tables, handed to a plain owner (as in a cluster: AETHER_MIGRATE_DATABASE_URL).
      const password = randomBytes(12).toString('hex');
      await c.query(`create role ${role} login nosuperuser nocreaterole nobypassrls password '${password}'`);
      await c.query(`grant aether_app to ${role}`);
      await c.query(`grant create on database ${name} to ${role}`);
      await c.query(`grant create on schema public to ${role}`);
      for (const t of ['orders', 'fills']) await c.query(`alter table ${t} owner to ${role}`);
      await c.query(`alter schema drizzle owner to ${role}`);
      await c.query(`alter table drizzle.__drizzle_migrations owner to ${role}`);
      const forced = await c.query(`select relname, relforcerowsecurity from pg_class where relname in ('orders', 'fills') order by relname`);
      expect(forced.rows).toEqual([
        { relname: 'fills', relforcerowsecurity: true },
        { relname: 'orders', relforcerowsecurity: true },
      ]);

      // 0012 alone (later migrations touch tables this test did not hand over).
      const owner = await openDatabase({ url: urlOf({ name: role, password }), driver: 'pg', asAppRole: false, max: 1 });
      try {
        await migrate(owner.db as never, { migrationsFolder: migrationsUpTo('0012') });
      } finally {
        await owner.close();
      }

      const orders = (await c.query(`select client_id, cause from orders order by client_id`)).rows as Array<{ client_id: string; cause: string }>;
      const byClient = Object.fromEntries(orders.map((o) => [o.client_id, o.cause]));
      for (const [k, [, , , cause]] of ORDERS.entries()) expect(byClient[`c-${k}`], `order ${k} (${ORDERS[k]!.join(' / ')})`).toBe(cause);
      const fills = (await c.query(`select client_id, cause from fills order by client_id`)).rows as Array<{ client_id: string; cause: string }>;
      expect(fills).toHaveLength(ORDERS.length);
      for (const f of fills) expect(f.cause, f.client_id).toBe(FILL_CAUSE[byClient[f.client_id]!]);
      // Forced again, as 0008 left it.
      expect((await c.query(`select bool_and(relforcerowsecurity) as f from pg_class where relname in ('orders', 'fills')`)).rows[0].f).toBe(true);

      // From now on every row names its cause, one of the known ones.
      const insert = (cause: string | null) =>
        c.query(`insert into orders (account_id, client_id, mode, pair, side, type, intent, cause, amount, status, decided_at) values ($1, $2, 'sim', 'ETH/USD', 'buy', 'market', 'entry', $3, 1, 'open', now())`, [
          acc!.id,
          `new-${randomBytes(3).toString('hex')}`,
          cause,
        ]);
      await expect(insert(null)).rejects.toThrow(/null value in column "cause"/);
      await expect(insert('whim')).rejects.toThrow(/orders_cause_check/);
      await expect(insert('take-profit')).resolves.toBeDefined();
      const [entry] = (await c.query(`select id from orders where client_id = 'c-0'`)).rows as Array<{ id: string }>;
      await expect(
        c.query(`insert into fills (account_id, order_id, trade_id, pair, side, price, qty, fee, realized_pnl, liquidity, cause, ts) values ($1, $2, 'x', 'ETH/USD', 'buy', 1, 1, 0, 0, 'taker', 'protect', now())`, [acc!.id, entry!.id]),
      ).rejects.toThrow(/fills_cause_check/);
    } finally {
      await c.end();
    }
  });
});
