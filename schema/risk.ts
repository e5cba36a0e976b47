import { index, jsonb, pgTable, real, text, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, decimal, ts } from './_shared.ts';

/** ACTIVE | REDUCING (exits only) | HALTED, per account; the daily drawdown machine's state. */
export const tradingState = pgTable(
  'trading_state',
  {
    accountId: accountId().primaryKey(),
    state: text('state', { enum: ['ACTIVE', 'REDUCING', 'HALTED'] }).notNull(),
    since: ts('since').notNull(),
    reason: text('reason'),
    dayKey: text('day_key').notNull(),
    /** The first equity seen in the UTC day and when: the daily drawdown's reference. */
    dayStartAt: ts('day_start_at').notNull(),
    dayStartEquityUsd: decimal('day_start_equity_usd').notNull(),
    drawdown: real('drawdown').notNull().default(0),
    /** After an admin reset, the rest of the day's drawdown is measured from here. */
    referenceEquityUsd: decimal('reference_equity_usd'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  () => [accountIsolation('trading_state')],
);

/** Refused orders, halts, reconciliation differences: everything the risk layer said no to. */
export const riskEvents = pgTable(
  'risk_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: accountId(),
    ts: ts('ts').notNull(),
    code: text('code').notNull(),
    clientId: text('client_id'),
    detail: jsonb('detail').notNull(),
  },
  (t) => [index('risk_events_account_ts_idx').on(t.accountId, t.ts), accountIsolation('risk_events')],
);
