import { readCandlesCsv } from '../../../lib/market/csv.ts';
import type { Candle } from '../../../lib/market/candle.ts';

const FILES: Record<string, string> = { 'BTC/USD': 'BTCUSD', 'ETH/USD': 'ETHUSD', 'SOL/USD': 'SOLUSD' };
const cache = new Map<string, Candle[]>();

/** The repository's real Kraken 1h candles. */
export function realCandles(pair: 'BTC/USD' | 'ETH/USD' | 'SOL/USD'): Candle[] {
  let c = cache.get(pair);
  if (!c) {
    c = readCandlesCsv(new URL(`../../../data/ohlcv/kraken_${FILES[pair]}_1h.csv`, import.meta.url).pathname, pair);
    cache.set(pair, c);
  }
  return c;
}

/** Candles of `pair` with openTime in [from, to) (ISO dates). */
export function slice(pair: 'BTC/USD' | 'ETH/USD' | 'SOL/USD', from: string, to: string): Candle[] {
  const a = Date.parse(from);
  const b = Date.parse(to);
  return realCandles(pair).filter((c) => c.openTime >= a && c.openTime < b);
}
