/** Kraken WebSocket v2 public channels (ticker, ohlc, book, trade) over the replay, on path /v2. */
import { crc32 } from 'node:zlib';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { KrakenExchange, MarketEvent } from './exchange.ts';
import type { PairDef } from './markets.ts';
import { bookLevels, candlesAt, recentTrades } from './public-api.ts';

type Channel = 'ticker' | 'ohlc' | 'book' | 'trade';
const CHANNELS: Channel[] = ['ticker', 'ohlc', 'book', 'trade'];
const OHLC_INTERVALS = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600];
const BOOK_DEPTHS = [10, 25, 100, 500, 1000];

interface Sub {
  channel: Channel;
  pair: PairDef;
  interval?: number; // ohlc, minutes
  depth?: number; // book
  lastBook?: { bids: Array<[string, string]>; asks: Array<[string, string]> };
}

interface Conn {
  ws: WebSocket;
  subs: Map<string, Sub>;
}

const subId = (channel: string, symbol: string, interval?: number) => `${channel}|${symbol}|${interval ?? ''}`;

/** Kraken v2 book checksum: CRC32 over the top 10 asks then bids, each price and qty without '.' and leading zeros. */
export function bookChecksum(book: { bids: Array<[string, string]>; asks: Array<[string, string]> }): number {
  const part = (levels: Array<[string, string]>) => levels.slice(0, 10).map(([p, q]) => strip(p) + strip(q)).join('');
  return crc32(part(book.asks) + part(book.bids)) >>> 0;
}
const strip = (s: string) => s.replace('.', '').replace(/^0+/, '');

export class WsHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Conn>();
  private heartbeat: NodeJS.Timeout | null = null;
  private nextConnId = 1;

  constructor(
    private readonly ex: KrakenExchange,
    private readonly now: () => number,
    private readonly heartbeatMs: number,
  ) {
    ex.onMarket((ev) => this.publish(ev));
    this.startHeartbeats();
  }

  /** Handles HTTP upgrades on /v2; anything else is refused. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/v2') {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  startHeartbeats(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const c of this.conns) if (c.subs.size > 0) this.send(c, { channel: 'heartbeat' });
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  stopHeartbeats(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Fault: kill every connection abruptly (no close frame), as a network drop would. */
  dropAll(): void {
    for (const c of this.conns) c.ws.terminate();
    this.conns.clear();
  }

  async close(): Promise<void> {
    this.stopHeartbeats();
    this.dropAll();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  /** RFC 3339 with microseconds, as most v2 timestamps are. */
  private iso(ms = this.now()): string {
    return new Date(ms).toISOString().replace('Z', '000Z');
  }

  /** RFC 3339 with nanoseconds, as v2 writes `interval_begin` and channel timestamps. */
  private iso9(ms = this.now()): string {
    return new Date(ms).toISOString().replace('Z', '000000Z');
  }

  private send(c: Conn, msg: unknown): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  private onConnection(ws: WebSocket): void {
    const c: Conn = { ws, subs: new Map() };
    this.conns.add(c);
    ws.on('close', () => this.conns.delete(c));
    ws.on('error', () => this.conns.delete(c));
    ws.on('message', (raw) => this.onMessage(c, raw.toString()));
    this.send(c, { channel: 'status', type: 'update', data: [{ api_version: 'v2', connection_id: this.nextConnId++, system: 'online', version: '2.0.10' }] });
  }

  private onMessage(c: Conn, raw: string): void {
    const timeIn = this.iso();
    let msg: { method?: unknown; params?: Record<string, unknown>; req_id?: unknown };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      this.send(c, { error: 'Malformed request', success: false, time_in: timeIn, time_out: this.iso() });
      return;
    }
    const reqId = typeof msg.req_id === 'number' ? { req_id: msg.req_id } : {};
    if (msg.method === 'ping') {
      this.send(c, { method: 'pong', ...reqId, time_in: timeIn, time_out: this.iso() });
      return;
    }
    if (msg.method !== 'subscribe' && msg.method !== 'unsubscribe') {
      this.send(c, { error: 'Method not found', method: msg.method, success: false, ...reqId, time_in: timeIn, time_out: this.iso() });
      return;
    }
    const method = msg.method;
    const params = msg.params ?? {};
    const channel = params.channel as Channel;
    const fail = (error: string, extra: Record<string, unknown> = {}) =>
      this.send(c, { error, method, success: false, ...extra, ...reqId, time_in: timeIn, time_out: this.iso() });
    if (!CHANNELS.includes(channel)) return fail(`Channel ${String(params.channel)} not found`);
    const symbols = params.symbol;
    if (!Array.isArray(symbols) || symbols.length === 0 || symbols.some((s) => typeof s !== 'string')) return fail('EGeneral:Invalid arguments');
    const interval = channel === 'ohlc' ? Number(params.interval ?? 1) : undefined;
    if (interval !== undefined && !OHLC_INTERVALS.includes(interval)) return fail('EGeneral:Invalid arguments');
    if (interval !== undefined && interval % (this.ex.path.interval / 60) !== 0) return fail('EGeneral:Invalid arguments');
    const depth = channel === 'book' ? Number(params.depth ?? 10) : undefined;
    if (depth !== undefined && !BOOK_DEPTHS.includes(depth)) return fail('EGeneral:Invalid arguments');
    const snapshot = params.snapshot !== false;
    for (const symbol of symbols as string[]) {
      const pair = this.ex.pairs.find((p) => p.symbol === symbol);
      if (!pair) {
        fail('Currency pair not supported', { symbol });
        continue;
      }
      const id = subId(channel, symbol, interval);
      const result = { channel, symbol, ...(interval !== undefined ? { interval } : {}), ...(depth !== undefined ? { depth } : {}), ...(method === 'subscribe' ? { snapshot } : {}) };
      if (method === 'unsubscribe') {
        if (!c.subs.delete(id)) {
          fail('Subscription Not Found', { symbol });
          continue;
        }
        this.send(c, { method, result, success: true, ...reqId, time_in: timeIn, time_out: this.iso() });
        continue;
      }
      if (c.subs.has(id)) {
        fail('Already subscribed', { symbol });
        continue;
      }
      const sub: Sub = { channel, pair, ...(interval !== undefined ? { interval } : {}), ...(depth !== undefined ? { depth } : {}) };
      c.subs.set(id, sub);
      this.send(c, { method, result: { ...result, warnings: [] }, success: true, ...reqId, time_in: timeIn, time_out: this.iso() });
      if (snapshot || channel === 'book') this.sendSnapshot(c, sub);
    }
  }

  private tickerData(p: PairDef): Record<string, unknown> {
    const hist = this.ex.history(p, 24);
    const last = this.ex.last(p);
    const open = hist[0]!.open;
    const vol = hist.reduce((s, x) => s + x.volume, 0);
    const vwap = vol > 0 ? hist.reduce((s, x) => s + ((x.high + x.low + x.close) / 3) * x.volume, 0) / vol : last;
    const r = (n: number) => Number(n.toFixed(p.pairDecimals));
    return {
      symbol: p.symbol,
      bid: this.ex.bid(p),
      bid_qty: 1,
      ask: this.ex.ask(p),
      ask_qty: 1,
      last: r(last),
      volume: Number(vol.toFixed(8)),
      vwap: r(vwap),
      low: r(Math.min(...hist.map((x) => x.low))),
      high: r(Math.max(...hist.map((x) => x.high))),
      change: r(last - open),
      change_pct: Number((((last - open) / open) * 100).toFixed(2)),
    };
  }

  private ohlcData(p: PairDef, interval: number, newest: number): Array<Record<string, unknown>> {
    const factor = interval / (this.ex.path.interval / 60);
    const r = (n: number) => Number(n.toFixed(p.pairDecimals));
    return candlesAt(this.ex, p, factor, newest).map((c) => ({
      symbol: p.symbol,
      open: r(c.open),
      high: r(c.high),
      low: r(c.low),
      close: r(c.close),
      trades: c.volume > 0 ? 4 * factor : 0,
      volume: Number(c.volume.toFixed(8)),
      vwap: r((c.high + c.low + c.close) / 3),
      interval_begin: this.iso9(c.openTime),
      interval,
      timestamp: this.iso(c.openTime + interval * 60_000), // the interval's end
    }));
  }

  private tradeData(p: PairDef, candles: number, max: number): Array<Record<string, unknown>> {
    return recentTrades(this.ex, p, candles)
      .slice(-max)
      .map((t) => ({
        symbol: p.symbol,
        side: t.side === 'b' ? 'buy' : 'sell',
        price: Number(t.price.toFixed(p.pairDecimals)),
        qty: Number(t.volume.toFixed(8)),
        ord_type: t.kind === 'l' ? 'limit' : 'market',
        trade_id: t.id,
        timestamp: this.iso(t.time),
      }));
  }

  private bookMsg(book: { bids: Array<[string, string]>; asks: Array<[string, string]> }, p: PairDef): Record<string, unknown> {
    const lv = (l: Array<[string, string]>) => l.map(([price, qty]) => ({ price: Number(price), qty: Number(qty) }));
    return { symbol: p.symbol, bids: lv(book.bids), asks: lv(book.asks), checksum: bookChecksum(book) };
  }

  private sendSnapshot(c: Conn, s: Sub): void {
    const p = s.pair;
    switch (s.channel) {
      case 'ticker':
        return this.send(c, { channel: 'ticker', type: 'snapshot', data: [this.tickerData(p)] });
      case 'ohlc':
        return this.send(c, { channel: 'ohlc', type: 'snapshot', timestamp: this.iso9(), data: this.ohlcData(p, s.interval!, 720) });
      case 'trade':
        return this.send(c, { channel: 'trade', type: 'snapshot', data: this.tradeData(p, 13, 50) });
      case 'book': {
        const book = bookLevels(this.ex, p, s.depth!);
        s.lastBook = book;
        return this.send(c, { channel: 'book', type: 'snapshot', data: [this.bookMsg(book, p)] });
      }
    }
  }

  /** After each replayed candle: a ticker, the current ohlc candle, the candle's trades and a book delta. */
  private publish(_ev: MarketEvent): void {
    for (const c of this.conns) {
      for (const s of c.subs.values()) {
        const p = s.pair;
        if (s.channel === 'ticker') this.send(c, { channel: 'ticker', type: 'update', data: [this.tickerData(p)] });
        else if (s.channel === 'ohlc') this.send(c, { channel: 'ohlc', type: 'update', timestamp: this.iso9(), data: this.ohlcData(p, s.interval!, 1) });
        else if (s.channel === 'trade') this.send(c, { channel: 'trade', type: 'update', data: this.tradeData(p, 1, 4) });
        else {
          const book = bookLevels(this.ex, p, s.depth!);
          const prev = s.lastBook ?? { bids: [], asks: [] };
          // A delta: levels that vanished go out with qty 0, new or changed levels come in.
          const delta = (old: Array<[string, string]>, cur: Array<[string, string]>) => {
            const curMap = new Map(cur);
            const gone = old.filter(([px]) => !curMap.has(px)).map(([px]) => ({ price: Number(px), qty: 0 }));
            const oldMap = new Map(old);
            const changed = cur.filter(([px, q]) => oldMap.get(px) !== q).map(([px, q]) => ({ price: Number(px), qty: Number(q) }));
            return [...gone, ...changed];
          };
          s.lastBook = book;
          this.send(c, { channel: 'book', type: 'update', data: [{ symbol: p.symbol, bids: delta(prev.bids, book.bids), asks: delta(prev.asks, book.asks), checksum: bookChecksum(book), timestamp: this.iso() }] });
        }
      }
    }
  }
}
