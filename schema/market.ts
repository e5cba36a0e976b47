import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, real, text } from 'drizzle-orm/pg-core';
import { decimal, ts } from './_shared.ts';

/** OHLCV bars, shared by every account. Hypertable on open_time where TimescaleDB exists. */
export const candles = pgTable(
  'candles',
  {
    pair: text('pair').notNull(),
    interval: integer('interval').notNull(), // seconds
    openTime: ts('open_time').notNull(),
    open: decimal('open').notNull(),
    high: decimal('high').notNull(),
    low: decimal('low').notNull(),
    close: decimal('close').notNull(),
    volume: decimal('volume').notNull(),
    source: text('source', { enum: ['kraken', 'coingecko', 'csv'] }).notNull(),
    /** Validation marks: gap_before, outlier, … (kept, not dropped: real flash crashes happen). */
    flags: text('flags').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    primaryKey({ columns: [t.pair, t.interval, t.openTime] }),
    check('candles_ohlc_sane', sql`${t.high} >= ${t.low} AND ${t.low} > 0 AND ${t.volume} >= 0`),
  ],
);

/** Scores produced by `score`, one per pair, bar and model version. Hypertable on ts. */
export const signals = pgTable(
  'signals',
  {
    pair: text('pair').notNull(),
    ts: ts('ts').notNull(),
    modelVersion: text('model_version').notNull(),
    probUp: real('prob_up').notNull(),
    expectedReturn: real('expected_return').notNull(),
    horizonBars: integer('horizon_bars').notNull(),
    regime: text('regime', { enum: ['bull', 'bear', 'sideways'] }).notNull(),
    regimeProbs: jsonb('regime_probs').notNull(),
    volatility: real('volatility').notNull(),
    atrPct: real('atr_pct').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pair, t.ts, t.modelVersion] }), index('signals_ts_idx').on(t.ts)],
);
