import { parseFeesBps } from '../lib/cycle/backtest-files.ts';
import { USD_MARKETS } from '../lib/exchange/usd-markets.ts';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { UsageError } from './args.ts';

/** The flags `aether backtest` and `aether research` share, read the same way (bad input: a UsageError). */

/** `--from` / `--to`: an ISO time, or undefined when not given. */
export function isoTime(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new UsageError(`--${flag}: not an ISO time: ${v}`);
  return t;
}

const when = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');

/**
 * `--from` / `--to` checked against each other and against the data: an inverted window, or one in
 * which no pair has a candle, is a usage error naming the data's span (never an empty report).
 */
export function windowFlags(values: { from?: string | undefined; to?: string | undefined }, candles: Record<string, readonly Candle[]>): { from?: number; to?: number } {
  const from = isoTime('from', values.from);
  const to = isoTime('to', values.to);
  if (from !== undefined && to !== undefined && from >= to) throw new UsageError(`--from ${values.from} is not before --to ${values.to}: the window is empty`);
  const spans = Object.entries(candles).map(([p, cs]) => ({ p, first: cs[0]!.openTime, last: cs.at(-1)!.openTime }));
  const inside = spans.some((s) => s.last >= (from ?? -Infinity) && s.first <= (to ?? Infinity));
  if (!inside) {
    const asked = `${from === undefined ? 'the start' : when(from)} → ${to === undefined ? 'the end' : when(to)}`;
    throw new UsageError(`no candles in the window ${asked} UTC: the data covers ${spans.map((s) => `${s.p} ${when(s.first)} → ${when(s.last)}`).join(', ')}`);
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** `--fees MAKER_BPS,TAKER_BPS`, or null when not given (the market specs' own fees). */
export function feesFlag(v: string | undefined): { maker: number; taker: number } | null {
  if (v === undefined) return null;
  try {
    return parseFeesBps(v);
  } catch (err) {
    throw new UsageError(`--fees: ${(err as Error).message}`);
  }
}

/** `--retrain-every` and `--train-bars` of the ML walk-forward. */
export function walkForwardFlags(values: { 'retrain-every': string; 'train-bars': string }): { retrainEvery: number; trainBars: number } {
  const retrainEvery = Number(values['retrain-every']);
  const trainBars = Number(values['train-bars']);
  if (!Number.isInteger(retrainEvery) || retrainEvery < 1) throw new UsageError('--retrain-every must be a positive whole number of bars');
  if (!Number.isInteger(trainBars) || trainBars < 100) throw new UsageError('--train-bars must be a whole number of bars ≥ 100');
  return { retrainEvery, trainBars };
}

/** `--data PAIR=FILE …`: each file's candles by pair (a Kraken USD spot pair, once, with candles). */
export function candleFiles(specs: readonly string[]): { candles: Record<string, Candle[]>; files: Record<string, string> } {
  const candles: Record<string, Candle[]> = {};
  const files: Record<string, string> = {};
  for (const d of specs) {
    const m = /^([A-Z0-9]{1,12}\/USD)=(.+)$/.exec(d);
    if (!m) throw new UsageError(`--data ${d}: expected PAIR=FILE with a USD pair, e.g. BTC/USD=data/ohlcv/kraken_BTCUSD_1h.csv`);
    const [, pair, file] = m as unknown as [string, string, string];
    if (!USD_MARKETS.some((x) => x.symbol === pair)) throw new UsageError(`--data ${pair}: not a Kraken spot USD pair this build knows`);
    if (candles[pair]) throw new UsageError(`--data given twice for ${pair}`);
    try {
      candles[pair] = readCandlesCsv(file, pair);
    } catch (err) {
      throw new UsageError(`--data ${d}: ${(err as Error).message}`);
    }
    if (!candles[pair].length) throw new UsageError(`--data ${d}: no candles`);
    files[pair] = file;
  }
  return { candles, files };
}
