import { index, jsonb, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';
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
    modelVersion: text('model_version'),
    ts: ts('ts').notNull(),
  },
  (t) => [
    unique('fills_account_trade_uq').on(t.accountId, t.tradeId),
    index('fills_account_ts_idx').on(t.accountId, t.ts),
    accountIsolation('fills'),
  ],
);
