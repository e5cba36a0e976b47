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

const T0 = Date.UTC(2026, 0, 1);
const H = 3_600_000;

/** Synthetic hourly bars from 2026-01-01: drift per bar times a zig-zag up `wiggle` and back (no drift of its own). */
export function bars(n: number, drift: number, wiggle = 0.004, pair = 'BTC/USD'): Candle[] {
  const out: Candle[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) {
    const open = p;
    p = p * (1 + drift) * (i % 2 === 0 ? 1 + wiggle : 1 / (1 + wiggle));
    out.push({ pair, interval: HOUR_S, openTime: T0 + i * H, open, high: Math.max(open, p) * 1.001, low: Math.min(open, p) * 0.999, close: p, volume: 1 });
  }
  return out;
}
