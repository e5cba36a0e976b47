import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, createdAt, decimal, ts } from './_shared.ts';

/**
 * Every order Aether decided, persisted as `pending` before it is sent: the unique
 * (account_id, client_id) key makes a retried decision find its order instead of placing another.
 */
export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: accountId(),
    clientId: text('client_id').notNull(),
    exchangeId: text('exchange_id'),
    mode: text('mode', { enum: ['sim', 'live'] }).notNull(),
    pair: text('pair').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    type: text('type').notNull(),
    intent: text('intent', { enum: ['entry', 'exit', 'stop-move', 'hedge', 'protective', 'flatten'] }).notNull(),
    /**
     * Why it was placed (lib/strategy/intent.ts OrderCause; lib/strategy/trade-cause.ts lists them):
     * a stop the exchange attached to an entry is `stop`, protection the cycle re-placed `protect`.
     */
    cause: text('cause', { enum: ['entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt', 'stop-move', 'protect'] }).notNull(),
    amount: decimal('amount').notNull(),
    price: decimal('price'),
    status: text('status', { enum: ['pending', 'open', 'closed', 'canceled', 'expired', 'rejected', 'unknown'] }).notNull(),
    filled: decimal('filled').notNull().default('0'),
    avgPrice: decimal('avg_price'),
    fee: decimal('fee').notNull().default('0'),
    reason: text('reason'),
    rejectCode: text('reject_code'),
    /** Which signal decided it: { pair, time, modelVersion }. */
    signalRef: jsonb('signal_ref'),
    modelVersion: text('model_version'),
    decidedAt: ts('decided_at').notNull(),
    createdAt: createdAt(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    unique('orders_account_client_uq').on(t.accountId, t.clientId),
    index('orders_account_status_idx').on(t.accountId, t.status),
    check('orders_cause_check', sql`${t.cause} IN ('entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt', 'stop-move', 'protect')`),
    accountIsolation('orders'),
  ],
);

/** Executions. T-6: time, pair, side, price, quantity, fee, realised PnL, order and model reference. */
export const fills = pgTable(
  'fills',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: accountId(),
    orderId: uuid('order_id').notNull().references(() => orders.id),
    tradeId: text('trade_id').notNull(),
    clientId: text('client_id'),
    pair: text('pair').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    price: decimal('price').notNull(),
    qty: decimal('qty').notNull(),
    fee: decimal('fee').notNull(),
    realizedPnl: decimal('realized_pnl').notNull(),
    liquidity: text('liquidity', { enum: ['maker', 'taker'] }).notNull(),
    /** What the trade was (lib/strategy/trade-cause.ts): its order's cause, a fired protect/stop-move stop being a `stop`. */
    cause: text('cause', { enum: ['entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt'] }).notNull(),
    modelVersion: text('model_version'),
    ts: ts('ts').notNull(),
  },
  (t) => [
    unique('fills_account_trade_uq').on(t.accountId, t.tradeId),
    index('fills_account_ts_idx').on(t.accountId, t.ts),
    index('fills_account_cause_ts_idx').on(t.accountId, t.cause, t.ts),
    check('fills_cause_check', sql`${t.cause} IN ('entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt')`),
    accountIsolation('fills'),
  ],
);
