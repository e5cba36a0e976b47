/** Kraken public REST methods, answered from the replayed price path. */
import type { Candle } from '../../lib/market/candle.ts';
import { KrakenError, type KrakenExchange, type Params, type SystemStatus } from './exchange.ts';
import { ASSETS, assetInfo, assetPairInfo, findAsset, type PairDef } from './markets.ts';
import { aggregate } from './prices.ts';

const OHLC_CAP = 720;
const INTERVALS = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];

function rfc1123(ms: number): string {
  const d = new Date(ms);
  const day = d.toUTCString().slice(0, 3);
  const mon = d.toUTCString().slice(8, 11);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${day}, ${String(d.getUTCDate()).padStart(2, ' ')} ${mon} ${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const str = (params: Params, k: string): string | undefined => {
  const v = params[k];
  if (v !== undefined && typeof v !== 'string') throw new KrakenError('EGeneral:Invalid arguments');
  return v;
};

function pairsParam(ex: KrakenExchange, params: Params, required: boolean): PairDef[] {
  const raw = str(params, 'pair');
  if (raw === undefined || raw === '') {
    if (required) throw new KrakenError('EGeneral:Invalid arguments');
    return ex.pairs;
  }
  return raw.split(',').map((n) => ex.pair(n));
}

export interface PublicTrade {
  id: number; // stable: derived from the candle's index in the replay
  price: number;
  volume: number;
  time: number; // ms
  side: 'b' | 's';
  kind: 'm' | 'l';
}

/** Deterministic public trades inside one candle: open, the nearer extreme, the other one, close. */
export function candleTrades(c: Candle, index: number): PublicTrade[] {
  const upFirst = Math.abs(c.high - c.open) < Math.abs(c.open - c.low);
  const path = upFirst ? [c.open, c.high, c.low, c.close] : [c.open, c.low, c.high, c.close];
  const span = c.interval * 1000;
  return path.map((price, i) => ({
    id: index * 4 + i + 1,
    price,
    volume: c.volume / 4,
    time: c.openTime + Math.floor((span * (i + 0.5)) / 4),
    side: i % 2 === 0 ? 'b' : 's',
    kind: i === 3 ? 'l' : 'm',
  }));
}

/** The public trades of the newest `candles` candles up to the cursor. */
export function recentTrades(ex: KrakenExchange, p: PairDef, candles: number): PublicTrade[] {
  const hist = ex.history(p, candles);
  const from = ex.cursor + 1 - hist.length;
  return hist.flatMap((c, j) => candleTrades(c, from + j));
}

export function publicMethod(ex: KrakenExchange, method: string, params: Params, now: number, status: SystemStatus): unknown {
  switch (method) {
    case 'Time':
      return { unixtime: Math.floor(now / 1000), rfc1123: rfc1123(now) };
    case 'SystemStatus':
      return { status, timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    case 'Assets': {
      const raw = str(params, 'asset');
      const list = raw ? raw.split(',').map((n) => findAsset(n)) : ASSETS;
      if (list.some((a) => a === undefined)) throw new KrakenError('EQuery:Unknown asset');
      return Object.fromEntries(list.map((a) => [a!.id, assetInfo(a!)]));
    }
    case 'AssetPairs':
      return Object.fromEntries(pairsParam(ex, params, false).map((p) => [p.key, assetPairInfo(p)]));
    case 'Ticker':
      return Object.fromEntries(pairsParam(ex, params, false).map((p) => [p.key, ticker(ex, p)]));
    case 'OHLC':
      return ohlc(ex, params);
    case 'Depth':
      return depth(ex, params);
    case 'Trades':
      return trades(ex, params);
    default:
      throw new KrakenError('EGeneral:Unknown method');
  }
}

function ticker(ex: KrakenExchange, p: PairDef): Record<string, unknown> {
  const d = p.pairDecimals;
  const day = ex.history(p, Math.max(1, Math.round(86400 / ex.path.interval)));
  const last = day[day.length - 1]!;
  const vol24 = day.reduce((s, c) => s + c.volume, 0);
  const vwap24 = vol24 > 0 ? day.reduce((s, c) => s + ((c.high + c.low + c.close) / 3) * c.volume, 0) / vol24 : last.close;
  const f = (n: number) => n.toFixed(d);
  const v = (n: number) => n.toFixed(8);
  const lotVol = 1;
  return {
    a: [f(ex.ask(p)), String(lotVol), v(lotVol)],
    b: [f(ex.bid(p)), String(lotVol), v(lotVol)],
    c: [f(last.close), v(last.volume / 4)],
    v: [v(last.volume), v(vol24)],
    p: [f((last.high + last.low + last.close) / 3), f(vwap24)],
    t: [4, day.length * 4],
    l: [f(last.low), f(Math.min(...day.map((c) => c.low)))],
    h: [f(last.high), f(Math.max(...day.map((c) => c.high)))],
    o: f(day[0]!.open),
  };
}

function intervalParam(ex: KrakenExchange, params: Params): number {
  const raw = str(params, 'interval') ?? '1';
  const minutes = Number(raw);
  if (!INTERVALS.includes(minutes)) throw new KrakenError('EGeneral:Invalid arguments');
  const base = ex.path.interval / 60;
  // The replay only holds candles of its base interval; finer ones cannot be made up honestly.
  if (minutes % base !== 0) throw new KrakenError('EGeneral:Invalid arguments');
  return minutes / base;
}

/** Candles at `factor` × the base interval up to the cursor; the last is the open one. */
export function candlesAt(ex: KrakenExchange, p: PairDef, factor: number, newest = OHLC_CAP): Candle[] {
  return aggregate(ex.history(p, newest * factor + factor), factor).slice(-newest);
}

function ohlc(ex: KrakenExchange, params: Params): unknown {
  const [p] = pairsParam(ex, params, true);
  const factor = intervalParam(ex, params);
  const sinceRaw = str(params, 'since');
  const since = sinceRaw === undefined ? undefined : Number(sinceRaw);
  if (since !== undefined && !Number.isFinite(since)) throw new KrakenError('EGeneral:Invalid arguments:since');
  const cs = candlesAt(ex, p!, factor);
  const d = p!.pairDecimals;
  const open = cs[cs.length - 1]!;
  // Newest 720 only, whatever `since` says; the open candle is always present.
  const rows = cs.filter((c) => since === undefined || c === open || c.openTime / 1000 > since);
  const committed = cs[cs.length - 2] ?? open;
  return {
    [p!.key]: rows.map((c) => {
      const vwap = (c.high + c.low + c.close) / 3;
      return [c.openTime / 1000, c.open.toFixed(d), c.high.toFixed(d), c.low.toFixed(d), c.close.toFixed(d), vwap.toFixed(d), c.volume.toFixed(8), c.volume > 0 ? 4 * (c.interval / ex.path.interval) : 0];
    }),
    last: committed.openTime / 1000,
  };
}

/** A synthetic book around the replayed price, shared by REST Depth and the WS book channel. */
export function bookLevels(ex: KrakenExchange, p: PairDef, levels: number): { bids: Array<[string, string]>; asks: Array<[string, string]> } {
  const tick = 10 ** -p.pairDecimals;
  const step = Math.max(tick, Number((ex.last(p) * 0.0001).toFixed(p.pairDecimals)));
  const scale = 1 / Math.max(1, Math.log10(ex.last(p) + 1));
  const side = (start: number, dir: 1 | -1): Array<[string, string]> =>
    Array.from({ length: levels }, (_, i) => {
      const px = Math.max(tick, start + dir * i * step);
      const qty = (0.5 + ((i * 7919) % 13) / 4) * scale;
      return [px.toFixed(p.pairDecimals), qty.toFixed(8)];
    });
  return { asks: side(ex.ask(p), 1), bids: side(ex.bid(p), -1) };
}

function depth(ex: KrakenExchange, params: Params): unknown {
  const [p] = pairsParam(ex, params, true);
  const count = Number(str(params, 'count') ?? '100');
  if (!Number.isInteger(count) || count < 1) throw new KrakenError('EGeneral:Invalid arguments:count');
  const ts = Math.floor(ex.path.timeline[ex.cursor]! / 1000);
  const { asks, bids } = bookLevels(ex, p!, Math.min(count, 500));
  return { [p!.key]: { asks: asks.map((l) => [...l, ts]), bids: bids.map((l) => [...l, ts]) } };
}

function trades(ex: KrakenExchange, params: Params): unknown {
  const [p] = pairsParam(ex, params, true);
  const sinceRaw = str(params, 'since');
  const countRaw = str(params, 'count');
  const count = Math.min(countRaw === undefined ? 1000 : Number(countRaw), 1000);
  if (!Number.isInteger(count) || count < 1) throw new KrakenError('EGeneral:Invalid arguments:count');
  // `since` is seconds or a nanosecond trade id, as Kraken accepts both.
  let sinceMs: number | undefined;
  if (sinceRaw !== undefined) {
    const n = Number(sinceRaw);
    sinceMs = sinceRaw.length >= 19 ? n / 1e6 : n * 1000;
  }
  let all = recentTrades(ex, p!, 300).filter((t) => sinceMs === undefined || t.time > sinceMs);
  all = sinceMs === undefined ? all.slice(-count) : all.slice(0, count);
  const d = p!.pairDecimals;
  const rows = all.map((t) => [t.price.toFixed(d), t.volume.toFixed(8), t.time / 1000, t.side, t.kind, '', t.id]);
  const lastTime = all[all.length - 1]?.time ?? (sinceMs ?? 0);
  return { [p!.key]: rows, last: String(BigInt(Math.round(lastTime)) * 1_000_000n) };
}
