import { index, pgTable, primaryKey, real, text } from 'drizzle-orm/pg-core';
import { accountId, accountIsolation, decimal, ts } from './_shared.ts';

/** Open position per account and pair, with its protective levels. */
export const positions = pgTable(
  'positions',
  {
    accountId: accountId(),
    pair: text('pair').notNull(),
    qty: decimal('qty').notNull(),
    avgPrice: decimal('avg_price').notNull(),
    realizedPnl: decimal('realized_pnl').notNull().default('0'),
    stopPrice: decimal('stop_price'),
    takeProfitPrice: decimal('take_profit_price'),
    openedAt: ts('opened_at'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.pair] }), accountIsolation('positions')],
);

/**
 * Balances per asset. `opening`: the exchange's balances when a live account's books start (first
 * reconciliation, or an admin's reset after a halt). `books`: what the books say after each live
 * cycle — the opening plus every fill booked since — which reconciliation compares with the exchange.
 */
export const balanceSnapshots = pgTable(
  'balance_snapshots',
  {
    accountId: accountId(),
    kind: text('kind', { enum: ['opening', 'books'] }).notNull().default('books'),
    ts: ts('ts').notNull(),
    asset: text('asset').notNull(),
    total: decimal('total').notNull(),
    hold: decimal('hold').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.kind, t.ts, t.asset] }), accountIsolation('balance_snapshots')],
);

/** Mark-to-market equity per cycle. Hypertable on ts where TimescaleDB exists. */
export const equitySnapshots = pgTable(
  'equity_snapshots',
  {
    accountId: accountId(),
    ts: ts('ts').notNull(),
    equityUsd: decimal('equity_usd').notNull(),
    cashUsd: decimal('cash_usd').notNull(),
    positionsUsd: decimal('positions_usd').notNull(),
    hedgeRatio: real('hedge_ratio').notNull(),
    drawdown: real('drawdown').notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.ts] }), index('equity_snapshots_ts_idx').on(t.ts), accountIsolation('equity_snapshots')],
);

/** Daily PnL per UTC day, net of fees (RP-1). */
export const dailyPnl = pgTable(
  'daily_pnl',
  {
    accountId: accountId(),
    day: text('day').notNull(), // YYYY-MM-DD (UTC)
    startEquityUsd: decimal('start_equity_usd').notNull(),
    endEquityUsd: decimal('end_equity_usd').notNull(),
    pnlUsd: decimal('pnl_usd').notNull(),
    pnlPct: real('pnl_pct').notNull(),
    feesUsd: decimal('fees_usd').notNull(),
    trades: decimal('trades').notNull(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.day] }), accountIsolation('daily_pnl')],
);
