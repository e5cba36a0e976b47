import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { ts } from './_shared.ts';

/**
 * The system log's errors (lib/system/events.ts): every error-level log line of a process with a
 * database, scrubbed as logged, the newest 10,000 kept. The account is named by slug, as the log
 * line names it — a global error names none, so this table is not account-scoped (no account_id,
 * no row-level security): the API shows a viewer only the rows of their accounts. Risk refusals,
 * halts and reconciliation differences are risk_events, read beside these.
 */
export const systemEvents = pgTable(
  'system_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ts: ts('ts').notNull(),
    level: text('level', { enum: ['error'] }).notNull(),
    source: text('source').notNull(),
    account: text('account'),
    message: text('message').notNull(),
    detail: jsonb('detail').notNull(),
  },
  (t) => [
    index('system_events_ts_idx').on(t.ts),
    index('system_events_account_ts_idx').on(t.account, t.ts),
    check('system_events_level_check', sql`${t.level} IN ('error')`),
  ],
);
