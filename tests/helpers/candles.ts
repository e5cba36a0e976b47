import type { Candle } from '../../lib/market/candle.ts';
import { readCandlesCsv } from '../../lib/market/csv.ts';

/** The repository's real Kraken 1h candles of a pair (data/ohlcv). */
export const repoCandles = (pair: string): Candle[] => readCandlesCsv(`data/ohlcv/kraken_${pair.replace('/', '')}_1h.csv`, pair);

/** A pair's candles from `warmup` bars before `from` up to `to` (inclusive open times). */
export function repoWindow(pair: string, from: number, to: number, warmup = 0): Candle[] {
  const all = repoCandles(pair).filter((c) => c.openTime <= to);
  return all.slice(Math.max(0, all.findIndex((c) => c.openTime >= from) - warmup));
}
