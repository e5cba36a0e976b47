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
