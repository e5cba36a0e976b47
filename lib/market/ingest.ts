import type { Db } from '../db/client.ts';
import { pollClosedCandles, UnknownPairError, type ClosedCandleSource } from './kraken-rest.ts';
import { loadCandles, upsertCandles } from './store.ts';
import { validateSeries, type ValidationIssue } from './validate.ts';

export interface IngestResult {
  pair: string;
  /** Bars stored by this run that were not stored before. */
  newCandles: number;
  /** Open time of the newest stored bar after the run (null: nothing stored yet). */
  lastOpenTime: number | null;
  /** Rejections, gaps and outliers found in the new bars. */
  issues: ValidationIssue[];
  /** Kraken's 720-bar window did not reach back to the stored latest bar: backfill the hole from CoinGecko. */
  truncated: boolean;
}

/** A pair this run could not ingest, and why. */
export interface IngestFailure {
  pair: string;
  error: string;
  /** Kraken does not list the pair at all (no request for its candles was made). */
  unknown: boolean;
}

export interface IngestReport {
  ingested: IngestResult[];
  failed: IngestFailure[];
}

/**
 * The `tick` step: per pair, the bars closed by `now` since the newest stored one, validated against the
 * stored bars before them and upserted (idempotent — a retried tick writes nothing twice). Each pair
 * stands alone: one that Kraken does not list, or whose request or storage fails, is reported in
 * `failed` and the others are ingested all the same.
 */
export async function ingestClosedCandles(db: Db, client: ClosedCandleSource, pairs: readonly string[], interval: number, now: number): Promise<IngestReport> {
  const out: IngestReport = { ingested: [], failed: [] };
  for (const pair of pairs) {
    try {
      out.ingested.push(await ingestPair(db, client, pair, interval, now));
    } catch (err) {
      out.failed.push({ pair, error: (err as Error).message, unknown: err instanceof UnknownPairError });
    }
  }
  return out;
}

async function ingestPair(db: Db, client: ClosedCandleSource, pair: string, interval: number, now: number): Promise<IngestResult> {
  const polled = await pollClosedCandles(db, client, pair, interval, now);
  const context = polled.previous ? await loadCandles(db, pair, interval, { to: polled.previous.openTime + 1, limit: 24 }) : [];
  const v = validateSeries(polled.candles, { context });
  const counts = await upsertCandles(db, v.candles, 'kraken');
  return {
    pair,
    newCandles: counts.inserted,
    lastOpenTime: v.candles.at(-1)?.openTime ?? polled.previous?.openTime ?? null,
    issues: v.issues,
    truncated: polled.truncated,
  };
}

export interface ScoringPlan {
  /** The bar to score: the newest bar any ingested pair has (null: no pair has any bar). */
  barTime: number | null;
  /** Pairs whose newest stored bar is that bar: they are scored. */
  pairs: string[];
  /** Ingested pairs without that bar (Kraken has not published it yet, they trade too rarely, or nothing is stored). */
  behind: string[];
}

/**
 * Which bar `score` runs for after a tick. The newest bar that any pair has, for the pairs that have
 * it: a pair that is behind (or failed) must not hold the others back — scoring the oldest common
 * bar instead would re-score a bar already scored (same job id, so nothing) and skip the new one for
 * every account. A pair behind gets no signal for this bar (no entries on it; its stops are still
 * managed) and is reported.
 */
export function scoringPlan(ingested: readonly IngestResult[]): ScoringPlan {
  let barTime: number | null = null;
  for (const r of ingested) if (r.lastOpenTime !== null && (barTime === null || r.lastOpenTime > barTime)) barTime = r.lastOpenTime;
  if (barTime === null) return { barTime: null, pairs: [], behind: [] };
  const pairs = ingested.filter((r) => r.lastOpenTime === barTime).map((r) => r.pair);
  const behind = ingested.filter((r) => r.lastOpenTime !== barTime).map((r) => r.pair);
  return { barTime, pairs, behind };
}
