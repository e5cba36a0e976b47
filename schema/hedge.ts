import { index, pgTable, real, text, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, decimal, ts } from './_shared.ts';
import { users } from './users.ts';

/** Current hedge (share of equity held in USD) per account. */
export const hedgeState = pgTable(
  'hedge_state',
  {
    accountId: accountId().primaryKey(),
    mode: text('mode', { enum: ['auto', 'manual'] }).notNull(),
    target: real('target').notNull(),
    actual: real('actual').notNull(),
    manualRatio: real('manual_ratio'),
    manualExpiresAt: ts('manual_expires_at'),
    reason: text('reason').notNull(),
    /** Highest equity seen: the hedge's drawdown input. */
    peakEquityUsd: decimal('peak_equity_usd').notNull().default('0'),
    updatedBy: uuid('updated_by').references(() => users.id),
    updatedAt: ts('updated_at').notNull(),
  },
  () => [accountIsolation('hedge_state')],
);

export const hedgeHistory = pgTable(
  'hedge_history',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: accountId(),
    ts: ts('ts').notNull(),
    mode: text('mode', { enum: ['auto', 'manual'] }).notNull(),
    target: real('target').notNull(),
    actual: real('actual').notNull(),
    reason: text('reason').notNull(),
  },
  (t) => [index('hedge_history_account_ts_idx').on(t.accountId, t.ts), accountIsolation('hedge_history')],
);
