import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from './client.ts';

const accountIdSchema = z.uuid();

/**
 * Runs `fn` in a transaction scoped to one account: row-level security lets it read and write only
 * that account's rows. The setting is transaction-local (`set_config(…, true)`), so a pooled
 * connection never carries it into other work.
 */
export async function withAccount<T>(db: Db, accountId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const id = accountIdSchema.parse(accountId);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('aether.account_id', ${id}, true)`);
    return fn(tx);
  });
}

/**
 * One statement in one account's scope, in ONE round trip: the scope and the statement go as a single
 * simple-protocol query, which PostgreSQL runs as one implicit transaction — an error rolls back both,
 * and the transaction-local scope ends with it, so the pooled connection carries nothing on. (It
 * commits like any transaction: durable when it returns.) withAccount takes four round trips (BEGIN,
 * scope, statement, COMMIT), each a wake-up of a process sharing the machine's cores: for a small
 * write on the order path (an order's pending row before its send, the Kraken nonce store after every
 * private call) that is most of its cost. A simple query carries no parameters, so the statement's
 * values (`$n` placeholders, as drizzle's `toSQL()` gives them) are inlined as escaped literals.
 * Returns the statement's rows.
 */
export async function oneTripForAccount<T>(db: Db, accountId: string, query: { sql: string; params: readonly unknown[] }): Promise<T[]> {
  const id = accountIdSchema.parse(accountId); // a uuid: safe to inline
  const statement = query.sql.replace(/\$(\d+)\b/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= query.params.length) throw new RangeError(`oneTripForAccount: no value for $${n}`);
    return sqlLiteral(query.params[i]);
  });
  const pool = (db as unknown as { $client: { query(text: string): Promise<unknown> } }).$client;
  const results = await pool.query(`select set_config('aether.account_id', '${id}', true); ${statement}`);
  const last = (Array.isArray(results) ? results.at(-1) : results) as { rows?: T[] } | undefined;
  return last?.rows ?? [];
}

/**
 * A string as an SQL literal, as node-postgres' escapeLiteral writes it: quotes doubled, and an
 * E'' string with backslashes doubled when it has any, so it reads the same whatever
 * standard_conforming_strings says. (Not imported from pg: this module is loaded by every command at
 * start, pg only once a database is opened.)
 */
function escapeLiteral(s: string): string {
  const quoted = `'${s.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return s.includes('\\') ? ` E${quoted}` : quoted;
}

/** A value as an SQL literal (untyped: PostgreSQL gives it the type of the column it goes into). */
function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`oneTripForAccount: ${v} has no SQL literal`);
    return escapeLiteral(String(v));
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return escapeLiteral(v);
  if (v instanceof Date) return escapeLiteral(v.toISOString());
  return escapeLiteral(JSON.stringify(v));
}

/** A transaction with no account in scope: global tables only, account-scoped tables look empty. */
export async function withGlobal<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}

/**
 * Narrows an already-open transaction to one account for `fn`, then clears the scope — for flows such
 * as onboarding that create an account and seed it atomically. (On an error the transaction rolls
 * back, and the transaction-local setting with it.)
 */
export async function withAccountScope<T>(tx: Tx, accountId: string, fn: () => Promise<T>): Promise<T> {
  await tx.execute(sql`select set_config('aether.account_id', ${accountIdSchema.parse(accountId)}, true)`);
  const result = await fn();
  await tx.execute(sql`select set_config('aether.account_id', '', true)`);
  return result;
}
