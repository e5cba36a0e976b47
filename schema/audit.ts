import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './_shared.ts';

/**
 * The append-only, hash-chained audit log. Triggers refuse UPDATE, DELETE and TRUNCATE; the
 * application role may only INSERT and SELECT. hash = HMAC-SHA256(audit key, prev_hash ‖ canonical
 * JSON of the row) — `alg` 'hmac-sha256'; rows written before the chain was keyed are plain
 * sha256(prev_hash ‖ …), `alg` 'sha256', and may only precede the keyed ones (lib/audit/verify.ts).
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
    alg: text('alg', { enum: ['sha256', 'hmac-sha256'] }).notNull(),
  },
  (t) => [
    index('audit_log_account_ts_idx').on(t.accountId, t.ts),
    index('audit_log_action_idx').on(t.action),
    check('audit_log_alg_check', sql`${t.alg} IN ('sha256', 'hmac-sha256')`),
  ],
);
