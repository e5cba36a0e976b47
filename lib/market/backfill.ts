import type { Db } from '../db/client.ts';
import type { Candle } from './candle.ts';
import type { CoinGeckoClient } from './coingecko.ts';
import { readCandlesCsv } from './csv.ts';
import type { ClosedCandleSource } from './kraken-rest.ts';
import { loadCandles, upsertCandles, type CandleSource } from './store.ts';
import { validateSeries, type ValidationIssue } from './validate.ts';

export type BackfillSource =
  | { kind: 'csv'; files: Readonly<Record<string, string>> }
  | { kind: 'kraken'; client: ClosedCandleSource }
  | { kind: 'coingecko'; client: Pick<CoinGeckoClient, 'hourlyCandles'> };

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
  }
}

/** Fetches, validates and stores the bars of each pair in [from, to); returns what happened per pair. */
export async function backfill(db: Db, req: BackfillRequest): Promise<PairSummary[]> {
  if (!(req.from < req.to)) throw new Error('backfill: from must be before to');
  const out: PairSummary[] = [];
  for (const [i, pair] of req.pairs.entries()) {
    const report = (f: number) => req.onProgress?.({ pair, fraction: (i + f) / req.pairs.length });
    report(0);
    const { candles, truncated } = await fetchBars(req, pair, report);
    const sorted = [...candles].sort((a, b) => a.openTime - b.openTime);
    const context = await loadCandles(db, pair, req.interval, { to: req.from, limit: CONTEXT_BARS });
    const v = validateSeries(sorted, { context });
    const source: CandleSource = req.source.kind;
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
