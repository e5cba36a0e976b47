import { sql } from 'drizzle-orm';
import { pgPolicy, pgRole, uuid } from 'drizzle-orm/pg-core';
import { accounts } from './accounts.ts';

/** The role every application query runs as. It owns nothing, so row-level security applies to it. */
export const appRole = pgRole('aether_app').existing();

/** Set per transaction by `withAccount`; unset means "no account" and every policy below sees nothing. */
const currentAccount = sql`nullif(current_setting('aether.account_id', true), '')::uuid`;

/** `account_id NOT NULL` referencing accounts: the column every account-scoped table starts with. */
export const accountId = () =>
  uuid('account_id')
    .notNull()
    .references(() => accounts.id, { onDelete: 'restrict' });

/** One policy per account-scoped table: read and write only the rows of the transaction's account. */
export const accountIsolation = (table: string) =>
  pgPolicy(`${table}_account_isolation`, {
    as: 'permissive',
    for: 'all',
    to: appRole,
    using: sql`account_id = ${currentAccount}`,
    withCheck: sql`account_id = ${currentAccount}`,
  });

export { createdAt, decimal, ts } from './_columns.ts';
