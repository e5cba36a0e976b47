import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_ROOT } from '../../lib/app-root.ts';
import type { Candle } from '../../lib/market/candle.ts';

/** Reads `time,open,high,low,close,volume` (ISO UTC open time) into candles of one pair. */
export function parseCandleCsv(text: string, pair: string, interval: number): Candle[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (header?.trim() !== 'time,open,high,low,close,volume') {
    throw new Error(`unexpected candle CSV header for ${pair}: ${header ?? '(empty)'}`);
  }
  return lines.map((line, i) => {
    const [time, ...rest] = line.split(',');
    const [open, high, low, close, volume] = rest.map(Number);
    const openTime = Date.parse(time ?? '');
    if (!Number.isFinite(openTime) || [open, high, low, close, volume].some((v) => v === undefined || !Number.isFinite(v))) {
      throw new Error(`bad candle CSV row ${i + 2} for ${pair}: ${line}`);
    }
    return { pair, interval, openTime, open: open!, high: high!, low: low!, close: close!, volume: volume! };
  });
}

export function loadCandleCsv(path: string, pair: string, interval = 3600): Candle[] {
  return parseCandleCsv(readFileSync(path, 'utf8'), pair, interval);
}

const DATA_DIR = join(APP_ROOT, 'data/ohlcv');

let repoCandles: Record<string, Candle[]> | undefined;

/** The repository's real Kraken 1h candles for BTC, ETH and SOL (read once per process; treat as read-only). */
export function loadRepoCandles(): Record<string, Candle[]> {
  if (repoCandles) return repoCandles;
  const out: Record<string, Candle[]> = {};
  for (const base of ['BTC', 'ETH', 'SOL']) {
    out[`${base}/USD`] = loadCandleCsv(join(DATA_DIR, `kraken_${base}USD_1h.csv`), `${base}/USD`);
  }
  repoCandles = out;
  return out;
}
