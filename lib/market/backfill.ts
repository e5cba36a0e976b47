import { sql } from 'drizzle-orm';
import { candles as candlesTable } from '../../schema/index.ts';
import type { Db } from '../db/client.ts';
import type { Candle } from './candle.ts';
import { HOURLY_WINDOW_MS, type CoinGeckoClient } from './coingecko.ts';
import { readCandlesCsv } from './csv.ts';
import { KRAKEN_OHLC_CAP, type ClosedCandleSource } from './kraken-rest.ts';
import { failureReason, NetworkError } from './network-error.ts';
import { loadCandles, upsertCandles, type CandleSource } from './store.ts';
import { validateSeries, type ValidationIssue } from './validate.ts';

export { failureReason }; // where the history code has always offered it

export type BackfillSource =
  | { kind: 'csv'; files: Readonly<Record<string, string>> }
  | { kind: 'kraken'; client: ClosedCandleSource }
  | { kind: 'coingecko'; client: Pick<CoinGeckoClient, 'hourlyCandles'> }
  /** Recorded bars already in memory (the repository's CSVs, shifted for a replay): stored as `csv`. */
  | { kind: 'candles'; series: Readonly<Record<string, readonly Candle[]>> };

export interface BackfillRequest {
  pairs: readonly string[];
  /** Inclusive open time, epoch ms. */
  from: number;
  /** Exclusive open time, epoch ms. */
  to: number;
  /** Bar width in seconds (CoinGecko: hourly only; CSV: must match the file). */
  interval: number;
  source: BackfillSource;
  /** `fraction` is the share of the whole job done (0..1). */
  onProgress?: (p: { pair: string; fraction: number }) => void;
}

export interface PairSummary {
  pair: string;
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  gaps: number;
  missingBars: number;
  outliers: number;
  first: number | null;
  last: number | null;
  /** The source had nothing older than `first` (Kraken's 720-bar window) although `from` asked for it. */
  truncated: boolean;
  issues: ValidationIssue[];
}

/** How many stored bars before `from` validation looks at (continuity, outlier window). */
const CONTEXT_BARS = 24;

async function fetchBars(req: BackfillRequest, pair: string, progress: (f: number) => void): Promise<{ candles: Candle[]; truncated: boolean }> {
  const s = req.source;
  const inRange = (c: Candle) => c.openTime >= req.from && c.openTime < req.to;
  switch (s.kind) {
    case 'csv': {
      const path = s.files[pair];
      if (!path) throw new Error(`no CSV file given for ${pair}`);
      const all = readCandlesCsv(path, pair);
      if (all[0] && all[0].interval !== req.interval) throw new Error(`${path} holds ${all[0].interval}s bars, not ${req.interval}s`);
      progress(1);
      return { candles: all.filter(inRange), truncated: false };
    }
    case 'kraken': {
      const got = await s.client.closedSince(pair, req.interval, req.from - req.interval * 1000);
      progress(1);
      return { candles: got.candles.filter(inRange), truncated: got.truncated };
    }
    case 'coingecko': {
      if (req.interval !== 3600) throw new Error('CoinGecko backfill builds hourly bars only (interval 3600)');
      const candles = await s.client.hourlyCandles(pair, req.from, req.to, (done, total) => progress(done / total));
      return { candles, truncated: false };
    }
    case 'candles': {
      progress(1);
      return { candles: (s.series[pair] ?? []).filter((c) => c.interval === req.interval && inRange(c)), truncated: false };
    }
  }
}

/** The source could not be read (as opposed to the store failing); the message is the source's. */
export class BackfillFetchError extends Error {
  override name = 'BackfillFetchError';
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Fetches, validates and stores the bars of each pair in [from, to); returns what happened per pair. */
export async function backfill(db: Db, req: BackfillRequest): Promise<PairSummary[]> {
  if (!(req.from < req.to)) throw new Error('backfill: from must be before to');
  const out: PairSummary[] = [];
  for (const [i, pair] of req.pairs.entries()) {
    const report = (f: number) => req.onProgress?.({ pair, fraction: (i + f) / req.pairs.length });
    report(0);
    const { candles, truncated } = await fetchBars(req, pair, report).catch((err: unknown) => {
      throw new BackfillFetchError(err);
    });
    const sorted = [...candles].sort((a, b) => a.openTime - b.openTime);
    const context = await loadCandles(db, pair, req.interval, { to: req.from, limit: CONTEXT_BARS });
    const v = validateSeries(sorted, { context });
    const source: CandleSource = req.source.kind === 'candles' ? 'csv' : req.source.kind;
    const counts = await upsertCandles(db, v.candles, source);
    out.push({
      pair,
      fetched: candles.length,
      ...counts,
      rejected: v.rejected,
      gaps: v.gaps,
      missingBars: v.missingBars,
      outliers: v.outliers,
      first: v.candles[0]?.openTime ?? null,
      last: v.candles.at(-1)?.openTime ?? null,
      truncated,
      issues: v.issues,
    });
    report(1);
  }
  return out;
}

/** One piece of a pair's history to fetch: `recent` from Kraken's OHLC window, `older` from the long-history source. */
export interface HistorySegment {
  pair: string;
  source: 'recent' | 'older';
  /** Inclusive open time, epoch ms. */
  from: number;
  /** Exclusive open time, epoch ms. */
  to: number;
}

export interface HistoryPlanOptions {
  /** Bars of history wanted before now. */
  depthBars: number;
  interval: number;
  /** Bars Kraken's OHLC reaches back (its 720-bar window, the open bar included). */
  recentBars?: number;
  /** Widest span of one `older` request (CoinGecko: hourly up to 89 days). */
  olderWindowMs?: number;
  /** Only the bars after the newest stored one (a gap after downtime), not the history before the oldest. */
  newerOnly?: boolean;
}

/**
 * What is missing of a pair's history, given the span already stored, as requests in the order to
 * make them. Every segment is stored as soon as it is fetched, so an interrupted run resumes where it
 * stopped: newer bars are fetched oldest first (the stored span grows forward), older bars newest
 * first (it grows backward) — the stored span never gets a hole in the middle. Holes inside the stored
 * span are not looked for.
 */
export function historyPlan(pair: string, stored: { first: number; last: number } | null, now: number, o: HistoryPlanOptions): HistorySegment[] {
  const step = o.interval * 1000;
  const end = Math.floor(now / step) * step; // the open bar: everything before it has closed
  const from = end - o.depthBars * step;
  const recentFrom = Math.max(from, end - ((o.recentBars ?? KRAKEN_OHLC_CAP) - 1) * step);
  const window = Math.max(step, Math.floor((o.olderWindowMs ?? HOURLY_WINDOW_MS) / step) * step);
  const forward = (a: number, b: number): HistorySegment[] => {
    const out: HistorySegment[] = [];
    for (let s = a; s < b; s += window) out.push({ pair, source: 'older', from: s, to: Math.min(s + window, b) });
    return out;
  };
  const backward = (a: number, b: number): HistorySegment[] => {
    const out: HistorySegment[] = [];
    for (let e = b; e > a; e -= window) out.push({ pair, source: 'older', from: Math.max(a, e - window), to: e });
    return out;
  };
  if (!stored) return [...(recentFrom < end ? [{ pair, source: 'recent' as const, from: recentFrom, to: end }] : []), ...backward(from, recentFrom)];
  const segments: HistorySegment[] = [];
  const next = stored.last + step;
  if (next < end) {
    segments.push(...forward(next, recentFrom));
    segments.push({ pair, source: 'recent', from: Math.max(next, recentFrom), to: end });
  }
  if (stored.first > from && !o.newerOnly) segments.push(...backward(from, stored.first));
  return segments;
}

/** The stored span of a pair's bars (first and last open time), or null when none is stored. */
export async function storedSpan(db: Db, pair: string, interval: number): Promise<{ first: number; last: number } | null> {
  const t = candlesTable;
  const [row] = await db
    .select({ first: sql<Date | string | null>`min(${t.openTime})`, last: sql<Date | string | null>`max(${t.openTime})` })
    .from(t)
    .where(sql`${t.pair} = ${pair} and ${t.interval} = ${interval}`);
  if (!row?.first || !row.last) return null;
  return { first: new Date(row.first).getTime(), last: new Date(row.last).getTime() };
}

/** A history source and the host its requests go to (named when it cannot be reached). */
export interface NamedSource {
  source: BackfillSource;
  host: string;
}

/** A history request failed: `host` could not be asked (network, timeout, HTTP error); `cause` says why. */
export class HistorySourceError extends NetworkError {
  override name = 'HistorySourceError';
}

export interface HistoryStep {
  segment: HistorySegment;
  /** Bars this step stored (inserted, updated or unchanged). */
  bars: number;
  /** Steps done and planned in all (the plan of every pair is made up front). */
  done: number;
  total: number;
}

/**
 * Fills what is missing of each pair's history (historyPlan): recent bars from `recent` (Kraken),
 * older ones from `older` (CoinGecko, or recorded candles in a replay). A request that fails throws
 * HistorySourceError naming the source's host; what was stored before it stays (the next run resumes).
 */
export async function fillHistory(
  db: Db,
  req: { pairs: readonly string[]; now: number; plan: Omit<HistoryPlanOptions, 'interval'>; interval: number; recent: NamedSource; older: NamedSource },
  onStep?: (s: HistoryStep) => void,
): Promise<{ bars: number; steps: number }> {
  const segments: HistorySegment[] = [];
  for (const pair of req.pairs) segments.push(...historyPlan(pair, await storedSpan(db, pair, req.interval), req.now, { ...req.plan, interval: req.interval }));
  let bars = 0;
  for (const [i, segment] of segments.entries()) {
    const named = segment.source === 'recent' ? req.recent : req.older;
    let rows: PairSummary[];
    try {
      rows = await backfill(db, { pairs: [segment.pair], from: segment.from, to: segment.to, interval: req.interval, source: named.source });
    } catch (err) {
      if (!(err instanceof BackfillFetchError)) throw err;
      throw new HistorySourceError(named.host, failureReason(err.cause), { cause: err.cause });
    }
    const stored = rows.reduce((s, r) => s + r.inserted + r.updated + r.unchanged, 0);
    bars += stored;
    onStep?.({ segment, bars: stored, done: i + 1, total: segments.length });
  }
  return { bars, steps: segments.length };
}
