import { and, asc, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { candles as candlesTable } from '../../schema/index.ts';
import type { Candle } from './candle.ts';

export type CandleSource = 'kraken' | 'coingecko' | 'csv';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Rows already stored with exactly these values and flags (left untouched). */
  unchanged: number;
}

/** Rows per INSERT: 11 parameters a row stays far below PostgreSQL's 65 535 bind parameters. */
const BATCH = 1000;

const toRow = (c: Candle & { flags?: readonly string[] }, source: CandleSource, extra: readonly string[]) => ({
  pair: c.pair,
  interval: c.interval,
  openTime: new Date(c.openTime),
  // String(n) is the shortest exact round-trip form; numeric accepts exponent notation too.
  open: String(c.open),
  high: String(c.high),
  low: String(c.low),
  close: String(c.close),
  volume: String(c.volume),
  source,
  flags: [...new Set([...(c.flags ?? []), ...extra])].sort(),
});

/**
 * Idempotent write: insert new bars, update changed ones (a re-fetched bar may differ, e.g. a late trade),
 * leave identical ones alone. Candles may carry `flags` (from validateSeries); `flags` adds marks to all.
 * One transaction, so a failed batch leaves nothing half-written.
 */
export async function upsertCandles(
  db: Db,
  candles: ReadonlyArray<Candle & { flags?: readonly string[] }>,
  source: CandleSource,
  flags: readonly string[] = [],
): Promise<UpsertCounts> {
  const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
  if (candles.length === 0) return counts;
  // One statement cannot touch a row twice: the last copy of a repeated bar wins.
  const unique = [...new Map(candles.map((c) => [`${c.pair}|${c.interval}|${c.openTime}`, c])).values()];
  counts.unchanged += candles.length - unique.length;
  await db.transaction(async (tx) => {
    for (let i = 0; i < unique.length; i += BATCH) {
      const rows = unique.slice(i, i + BATCH).map((c) => toRow(c, source, flags));
      const t = candlesTable;
      const written = await tx
        .insert(t)
        .values(rows)
        .onConflictDoUpdate({
          target: [t.pair, t.interval, t.openTime],
          set: {
            open: sql`excluded.open`,
            high: sql`excluded.high`,
            low: sql`excluded.low`,
            close: sql`excluded.close`,
            volume: sql`excluded.volume`,
            source: sql`excluded.source`,
            flags: sql`excluded.flags`,
          },
          // Only rewrite rows that differ: an identical re-run touches nothing and reports "unchanged".
          setWhere: sql`(${t.open}, ${t.high}, ${t.low}, ${t.close}, ${t.volume}, ${t.source}, ${t.flags}) is distinct from (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume, excluded.source, excluded.flags)`,
        })
        // xmax = 0 on a freshly inserted row version, non-zero on one written by the DO UPDATE branch.
        .returning({ inserted: sql<boolean>`(xmax = 0)` });
      const ins = written.filter((r) => r.inserted).length;
      counts.inserted += ins;
      counts.updated += written.length - ins;
      counts.unchanged += rows.length - written.length;
    }
  });
  return counts;
}

export type StoredCandle = Candle & { source: CandleSource; flags: string[] };

const fromRow = (r: typeof candlesTable.$inferSelect): StoredCandle => ({
  pair: r.pair,
  interval: r.interval,
  openTime: r.openTime.getTime(),
  open: Number(r.open),
  high: Number(r.high),
  low: Number(r.low),
  close: Number(r.close),
  volume: Number(r.volume),
  source: r.source,
  flags: r.flags,
});

export interface LoadOptions {
  /** Inclusive open time (epoch ms). */
  from?: number;
  /** Exclusive open time (epoch ms). */
  to?: number;
  /** The NEWEST `limit` bars of the range (still returned oldest first). */
  limit?: number;
}

/** Stored candles of one pair and interval, ascending by open time. */
export async function loadCandles(db: Db, pair: string, interval: number, opts: LoadOptions = {}): Promise<StoredCandle[]> {
  const t = candlesTable;
  const where = and(
    eq(t.pair, pair),
    eq(t.interval, interval),
    opts.from === undefined ? undefined : gte(t.openTime, new Date(opts.from)),
    opts.to === undefined ? undefined : lt(t.openTime, new Date(opts.to)),
  );
  if (opts.limit === undefined) {
    const rows = await db.select().from(t).where(where).orderBy(asc(t.openTime));
    return rows.map(fromRow);
  }
  const rows = await db.select().from(t).where(where).orderBy(desc(t.openTime)).limit(opts.limit);
  return rows.map(fromRow).reverse();
}

/** The stored candles of several pairs at one open time (one query: the hourly job's new bar). */
export async function loadBarCandles(db: Db, pairs: readonly string[], interval: number, openTime: number): Promise<StoredCandle[]> {
  if (!pairs.length) return [];
  const t = candlesTable;
  const rows = await db
    .select()
    .from(t)
    .where(and(inArray(t.pair, [...pairs]), eq(t.interval, interval), eq(t.openTime, new Date(openTime))));
  return rows.map(fromRow);
}

/** The newest stored candle of a pair and interval, or null. */
export async function latestCandle(db: Db, pair: string, interval: number): Promise<StoredCandle | null> {
  const [c] = await loadCandles(db, pair, interval, { limit: 1 });
  return c ?? null;
}
