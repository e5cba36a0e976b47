import { index, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, ts } from './_shared.ts';

/**
 * One row per account and bar the order job was asked to trade: when it ran, and how it ended —
 * `done`, `skipped` (stale: a newer bar had closed by wall time), `halted` (reconciliation failed
 * closed) or `failed`. What the UI and `aether status` show as the last cycle; what benches wait on.
 */
export const accountCycles = pgTable(
  'account_cycles',
  {
    accountId: accountId(),
    barTime: ts('bar_time').notNull(),
    outcome: text('outcome', { enum: ['done', 'skipped', 'halted', 'failed'] }).notNull(),
    mode: text('mode', { enum: ['sim', 'live'] }),
    startedAt: ts('started_at').notNull(),
    finishedAt: ts('finished_at').notNull(),
    detail: jsonb('detail').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.barTime] }), index('account_cycles_finished_idx').on(t.accountId, t.finishedAt), accountIsolation('account_cycles')],
);
