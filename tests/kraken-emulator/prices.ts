/**
 * The replayed price path: one candle series per pair, all aligned to the primary series' timeline
 * so one cursor index means the same hour everywhere.
 */
import type { Candle } from '../../lib/market/candle.ts';
import type { PairDef } from './markets.ts';

export interface PricePath {
  timeline: number[]; // open times (ms) of the primary series
  interval: number; // seconds
  /** The candles of a pair (by key), timeline.length long; built on first use. */
  series(pairKey: string): Candle[];
}

/** Aligns a supplied series to the timeline: gaps and the time before listing repeat the last known close with zero volume. */
function align(src: Candle[], timeline: number[], pair: string, interval: number): Candle[] {
  if (src.length === timeline.length && src.every((c, i) => c.openTime === timeline[i] && c.pair === pair)) return src;
  const byTime = new Map(src.map((c) => [c.openTime, c]));
  const first = src[0];
  if (!first) throw new Error(`empty candle series for ${pair}`);
  let last = first.open;
  return timeline.map((t) => {
    const c = byTime.get(t);
    if (c) {
      last = c.close;
      return { ...c, pair };
    }
    return { pair, interval, openTime: t, open: last, high: last, low: last, close: last, volume: 0 };
  });
}

function derive(p: PairDef, by: (sym: string) => Candle[] | undefined, primary: Candle[], startIndex: number): Candle[] {
  const src = p.source;
  if (src.kind === 'ratio' && by(src.num) && by(src.den)) {
    const num = by(src.num)!;
    const den = by(src.den)!;
    return num.map((n, i) => {
      const d = den[i]!;
      const open = n.open / d.open;
      const close = n.close / d.close;
      return { ...n, pair: p.symbol, open, close, high: Math.max(open, close, n.high / d.high), low: Math.min(open, close, n.low / d.low), volume: n.volume };
    });
  }
  if (src.kind === 'fx' && by(src.of)) {
    const k = 1 / src.usdPerUnit;
    return by(src.of)!.map((c) => ({ ...c, pair: p.symbol, open: c.open * k, high: c.high * k, low: c.low * k, close: c.close * k }));
  }
  if (src.kind === 'flat') {
    return primary.map((c) => ({ ...c, pair: p.symbol, open: src.price, close: src.price, high: src.price + src.band, low: src.price - src.band, volume: 250_000 }));
  }
  // A proxy path with the primary's shape at this pair's price level (no real data for it here).
  const ref = src.kind === 'scaled' ? src.ref : 1;
  const k = ref / (primary[startIndex]?.close ?? primary[0]!.close);
  return primary.map((c) => ({ ...c, pair: p.symbol, open: c.open * k, high: c.high * k, low: c.low * k, close: c.close * k, volume: c.volume / k }));
}

export function buildPricePath(candles: Record<string, Candle[]>, pairs: PairDef[], startIndex: number): PricePath {
  const symbols = Object.keys(candles);
  const primarySymbol = symbols.includes('BTC/USD') ? 'BTC/USD' : symbols[0];
  if (primarySymbol === undefined) throw new Error('the Kraken emulator needs at least one candle series');
  const primaryRaw = candles[primarySymbol]!;
  if (primaryRaw.length === 0) throw new Error(`empty candle series for ${primarySymbol}`);
  const interval = primaryRaw[0]!.interval;
  const timeline = primaryRaw.map((c) => c.openTime);
  const alignedCache = new Map<string, Candle[]>();
  const aligned = (sym: string): Candle[] | undefined => {
    if (!(sym in candles)) return undefined;
    let a = alignedCache.get(sym);
    if (!a) alignedCache.set(sym, (a = align(candles[sym]!, timeline, sym, interval)));
    return a;
  };
  const primary = aligned(primarySymbol)!;
  const byKey = new Map(pairs.map((p) => [p.key, p]));
  const built = new Map<string, Candle[]>();
  const series = (key: string): Candle[] => {
    let s = built.get(key);
    if (s) return s;
    const p = byKey.get(key);
    if (!p) throw new Error(`no price path for pair ${key}`);
    s = aligned(p.symbol) ?? derive(p, aligned, primary, startIndex);
    built.set(key, s);
    return s;
  };
  return { timeline, interval, series };
}

/** Aggregates base-interval candles into `factor`-wide buckets aligned to epoch multiples of the wider interval. */
export function aggregate(candles: Candle[], factor: number): Candle[] {
  if (factor === 1) return candles;
  const out: Candle[] = [];
  const width = (candles[0]?.interval ?? 0) * factor * 1000;
  for (const c of candles) {
    const begin = Math.floor(c.openTime / width) * width;
    const cur = out[out.length - 1];
    if (cur && cur.openTime === begin) {
      cur.high = Math.max(cur.high, c.high);
      cur.low = Math.min(cur.low, c.low);
      cur.close = c.close;
      cur.volume += c.volume;
    } else {
      out.push({ ...c, openTime: begin, interval: c.interval * factor });
    }
  }
  return out;
}
