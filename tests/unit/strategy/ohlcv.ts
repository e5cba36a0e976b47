import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HOUR_S, type Candle } from '../../../lib/market/candle.ts';

const DATA = fileURLToPath(new URL('../../../data/ohlcv/', import.meta.url));
const cache = new Map<string, Candle[]>();

/** Real Kraken 1h candles from data/ohlcv (BTC, ETH, SOL). */
export function krakenHourly(base: 'BTC' | 'ETH' | 'SOL'): Candle[] {
  const hit = cache.get(base);
  if (hit) return hit;
  const pair = `${base}/USD`;
  const lines = readFileSync(`${DATA}kraken_${base}USD_1h.csv`, 'utf8').trim().split('\n').slice(1);
  const out = lines.map((l): Candle => {
    const [t, o, h, lo, c, v] = l.split(',');
    return { pair, interval: HOUR_S, openTime: Date.parse(t!), open: Number(o), high: Number(h), low: Number(lo), close: Number(c), volume: Number(v) };
  });
  cache.set(base, out);
  return out;
}
