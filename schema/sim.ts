import { integer, jsonb, pgTable } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, ts } from './_shared.ts';

/** SimBroker's state per account (balances, holds, orders, fills), versioned for optimistic writes. */
export const simState = pgTable(
  'sim_state',
  {
    accountId: accountId().primaryKey(),
    version: integer('version').notNull(),
    state: jsonb('state').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  () => [accountIsolation('sim_state')],
);
