import type { Db } from '../db/client.ts';
import { pollClosedCandles, type ClosedCandleSource } from './kraken-rest.ts';
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

/**
 * The `tick` step: per pair, the bars closed by `now` since the newest stored one, validated against the
 * stored bars before them and upserted (idempotent — a retried tick writes nothing twice).
 */
export async function ingestClosedCandles(db: Db, client: ClosedCandleSource, pairs: readonly string[], interval: number, now: number): Promise<IngestResult[]> {
  const out: IngestResult[] = [];
  for (const pair of pairs) {
    const polled = await pollClosedCandles(db, client, pair, interval, now);
    const context = polled.previous ? await loadCandles(db, pair, interval, { to: polled.previous.openTime + 1, limit: 24 }) : [];
    const v = validateSeries(polled.candles, { context });
    const counts = await upsertCandles(db, v.candles, 'kraken');
    out.push({
      pair,
      newCandles: counts.inserted,
      lastOpenTime: v.candles.at(-1)?.openTime ?? polled.previous?.openTime ?? null,
      issues: v.issues,
      truncated: polled.truncated,
    });
  }
  return out;
}
