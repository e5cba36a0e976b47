import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './_shared.ts';

/**
 * The append-only, hash-chained audit log. Triggers refuse UPDATE, DELETE and TRUNCATE; the
 * application role may only INSERT and SELECT. hash = sha256(prev_hash ‖ canonical JSON of the row).
 * `id` is gap-free (assigned under the chain lock), so a removed row is as visible as an edited one.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey(),
    ts: ts('ts').notNull(),
    userId: uuid('user_id'),
    accountId: uuid('account_id'),
    action: text('action').notNull(),
    details: jsonb('details').notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull().unique(),
  },
  (t) => [index('audit_log_account_ts_idx').on(t.accountId, t.ts), index('audit_log_action_idx').on(t.action)],
);
