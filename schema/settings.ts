import { integer, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, createdAt } from './_shared.ts';
import { users } from './users.ts';

/** Versioned per-account settings: a change adds a row, the highest version of a kind wins. */
export const settings = pgTable(
  'settings',
  {
    accountId: accountId(),
    kind: text('kind', { enum: ['trading', 'risk', 'hedge', 'simulation'] }).notNull(),
    version: integer('version').notNull(),
    value: jsonb('value').notNull(),
    createdBy: uuid('created_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.kind, t.version] }), accountIsolation('settings')],
);
