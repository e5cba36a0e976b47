import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Candle } from './candle.ts';

const HEADER = 'time,open,high,low,close,volume';

const rowSchema = z
  .object({
    time: z.iso.datetime(),
    open: z.number().positive(),
    high: z.number().positive(),
    low: z.number().positive(),
    close: z.number().positive(),
    volume: z.number().nonnegative(),
  })
  .refine((r) => r.low <= Math.min(r.open, r.close) && r.high >= Math.max(r.open, r.close), {
    message: 'OHLC out of order (need low <= open,close <= high)',
  });

/** Parses CSV text `time,open,high,low,close,volume` (ISO UTC open time) into candles; throws with the line number on any bad row. */
export function parseCandlesCsv(text: string, pair: string, source = 'csv'): Candle[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== HEADER) throw new Error(`${source}: expected header "${HEADER}", got "${lines[0] ?? ''}"`);
  if (lines.length < 3) throw new Error(`${source}: need at least two candles to infer the interval`);
  const rows: Omit<Candle, 'interval'>[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = (lines[i] as string).split(',');
    if (cells.length !== 6) throw new Error(`${source}:${i + 1}: expected 6 fields, got ${cells.length}`);
    const [time, open, high, low, close, volume] = cells as [string, string, string, string, string, string];
    const parsed = rowSchema.safeParse({ time, open: Number(open), high: Number(high), low: Number(low), close: Number(close), volume: Number(volume) });
    if (!parsed.success) throw new Error(`${source}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')} ${x.message}`).join('; ')}`);
    const openTime = Date.parse(parsed.data.time);
    const prev = rows[rows.length - 1];
    if (prev && openTime <= prev.openTime) throw new Error(`${source}:${i + 1}: time not strictly increasing (${parsed.data.time})`);
    rows.push({ pair, openTime, open: parsed.data.open, high: parsed.data.high, low: parsed.data.low, close: parsed.data.close, volume: parsed.data.volume });
  }
  // Gaps (hours without trades) exist, so the interval is the smallest step, which must divide every step.
  let step = Infinity;
  for (let i = 1; i < rows.length; i++) step = Math.min(step, (rows[i] as Candle).openTime - (rows[i - 1] as Candle).openTime);
  if (step % 1000 !== 0) throw new Error(`${source}: interval ${step} ms is not a whole number of seconds`);
  for (let i = 1; i < rows.length; i++) {
    const d = (rows[i] as Candle).openTime - (rows[i - 1] as Candle).openTime;
    if (d % step !== 0) throw new Error(`${source}:${i + 2}: step ${d} ms is not a multiple of the interval ${step} ms`);
  }
  const interval = step / 1000;
  return rows.map((r) => csvCandle(r, interval));
}

/**
 * A candle in one hidden class whose number fields are doubles from the start (same fields, same
 * order as `{ ...row, interval }`). A CSV mixes integral prices (small integers to V8) with fractional
 * ones, which otherwise leaves nearly every candle with a map of its own: each read of a field is then
 * a megamorphic lookup (a backtest's copy of its candles took ~1 µs per candle).
 */
const csvCandle = (r: Omit<Candle, 'interval'>, interval: number): Candle => ({
  pair: r.pair,
  openTime: r.openTime,
  open: r.open,
  high: r.high,
  low: r.low,
  close: r.close,
  volume: r.volume,
  interval,
});
csvCandle({ pair: '', openTime: 0.5, open: 0.5, high: 0.5, low: 0.5, close: 0.5, volume: 0.5 }, 0.5);

/** Reads a candle CSV file (see parseCandlesCsv). */
export function readCandlesCsv(path: string, pair: string): Candle[] {
  return parseCandlesCsv(readFileSync(path, 'utf8'), pair, path);
}
