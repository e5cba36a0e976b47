import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startKrakenEmulator, type KrakenEmulator } from './index.ts';
import { bookChecksum } from './ws.ts';

type Msg = Record<string, unknown> & { channel?: string; method?: string; type?: string; data?: Array<Record<string, unknown>> };

/** A WS client that queues messages and lets a test wait for the next one matching a predicate. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  const queue: Msg[] = [];
  const waiters: Array<{ pred: (m: Msg) => boolean; resolve: (m: Msg) => void }> = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as Msg;
    const i = waiters.findIndex((w) => w.pred(m));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
    else queue.push(m);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (pred: (m: Msg) => boolean, timeoutMs = 2000): Promise<Msg> => {
    const i = queue.findIndex(pred);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a WS message')), timeoutMs);
      waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  };
  const send = (m: unknown) => ws.send(JSON.stringify(m));
  const drain = () => queue.splice(0);
  return { ws, next, send, drain, queue };
}

const is = (channel: string, type?: string) => (m: Msg) => m.channel === channel && (type === undefined || m.type === type);

let emu: KrakenEmulator;
beforeAll(async () => {
  emu = await startKrakenEmulator({ heartbeatMs: 40 });
});
afterAll(async () => {
  await emu.close();
});

describe('Kraken WS v2 public channels', () => {
  it('announces status on connect and answers ping with pong', async () => {
    const c = await connect(emu.wsUrl);
    const status = await c.next(is('status'));
    expect(status.data![0]).toMatchObject({ api_version: 'v2', system: 'online' });
    c.send({ method: 'ping', req_id: 7 });
    expect(await c.next((m) => m.method === 'pong')).toMatchObject({ method: 'pong', req_id: 7 });
    c.ws.close();
  });

  it('ohlc: ack, snapshot up to the cursor, update after advance()', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ohlc', symbol: ['BTC/USD'], interval: 60 }, req_id: 1 });
    const ack = await c.next((m) => m.method === 'subscribe');
    expect(ack).toMatchObject({ method: 'subscribe', success: true, req_id: 1, result: { channel: 'ohlc', symbol: 'BTC/USD', interval: 60, snapshot: true } });
    const snap = await c.next(is('ohlc', 'snapshot'));
    const cursorTime = emu.exchange.path.timeline[emu.exchange.cursor]!;
    expect(snap.data).toHaveLength(720);
    expect(snap.data!.at(-1)).toMatchObject({ symbol: 'BTC/USD', interval: 60, interval_begin: new Date(cursorTime).toISOString().replace('Z', '000000Z') });
    emu.advance();
    const upd = await c.next(is('ohlc', 'update'));
    const candle = emu.exchange.candle(emu.exchange.pair('XBTUSD'));
    expect(upd.data).toHaveLength(1);
    expect(upd.data![0]).toMatchObject({ symbol: 'BTC/USD', close: candle.close, high: candle.high, low: candle.low });
    expect(Date.parse(String(upd.data![0]!.interval_begin))).toBe(cursorTime + 3_600_000);
    c.ws.close();
  });

  it('ticker and trade: snapshot then updates on advance()', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['ETH/USD', 'SOL/USD'] } });
    c.send({ method: 'subscribe', params: { channel: 'trade', symbol: ['ETH/USD'] } });
    const t1 = await c.next(is('ticker', 'snapshot'));
    const t2 = await c.next(is('ticker', 'snapshot'));
    expect([t1.data![0]!.symbol, t2.data![0]!.symbol].sort()).toEqual(['ETH/USD', 'SOL/USD']);
    const tradeSnap = await c.next(is('trade', 'snapshot'));
    expect(tradeSnap.data!.length).toBe(50);
    emu.advance();
    const eth = emu.exchange.pair('ETHUSD');
    const tick = await c.next((m) => is('ticker', 'update')(m) && m.data![0]!.symbol === 'ETH/USD');
    expect(tick.data![0]).toMatchObject({ last: emu.exchange.last(eth), bid: emu.exchange.bid(eth), ask: emu.exchange.ask(eth) });
    const trades = await c.next(is('trade', 'update'));
    expect(trades.data).toHaveLength(4);
    expect(trades.data!.at(-1)!.price).toBe(emu.exchange.last(eth));
    c.ws.close();
  });

  it('book: snapshot and deltas keep the Kraken checksum', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'book', symbol: ['BTC/USD'], depth: 10 } });
    const snap = await c.next(is('book', 'snapshot'));
    type Level = { price: number; qty: number };
    const d = snap.data![0] as { bids: Level[]; asks: Level[]; checksum: number };
    expect(d.bids).toHaveLength(10);
    const book = { bids: new Map(d.bids.map((l) => [l.price, l.qty])), asks: new Map(d.asks.map((l) => [l.price, l.qty])) };
    const checksum = () => {
      const fmt = (m: Map<number, number>, desc: boolean) =>
        [...m].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, 10).map(([p, q]) => [p.toFixed(1), q.toFixed(8)] as [string, string]);
      return bookChecksum({ bids: fmt(book.bids, true), asks: fmt(book.asks, false) });
    };
    expect(checksum()).toBe(d.checksum);
    emu.advance();
    const upd = await c.next(is('book', 'update'));
    const u = upd.data![0] as { bids: Level[]; asks: Level[]; checksum: number };
    for (const [side, levels] of [['bids', u.bids], ['asks', u.asks]] as const) {
      for (const l of levels) {
        if (l.qty === 0) book[side].delete(l.price);
        else book[side].set(l.price, l.qty);
      }
    }
    expect(checksum()).toBe(u.checksum);
    c.ws.close();
  });

  it('refuses an unknown symbol and a bad interval', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['DOGE/JPY'] } });
    expect(await c.next((m) => m.method === 'subscribe')).toMatchObject({ success: false, error: 'Currency pair not supported', symbol: 'DOGE/JPY' });
    c.send({ method: 'subscribe', params: { channel: 'ohlc', symbol: ['BTC/USD'], interval: 7 } });
    expect(await c.next((m) => m.method === 'subscribe')).toMatchObject({ success: false });
    c.ws.close();
  });

  it('unsubscribe stops the updates', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['BTC/USD'] } });
    await c.next(is('ticker', 'snapshot'));
    c.send({ method: 'unsubscribe', params: { channel: 'ticker', symbol: ['BTC/USD'] } });
    expect(await c.next((m) => m.method === 'unsubscribe')).toMatchObject({ success: true, result: { channel: 'ticker', symbol: 'BTC/USD' } });
    emu.advance();
    c.send({ method: 'ping', req_id: 9 });
    await c.next((m) => m.method === 'pong'); // anything published by advance() would have arrived before this
    expect(c.queue.filter(is('ticker', 'update'))).toHaveLength(0);
    c.ws.close();
  });
});

describe('heartbeats and drops (for client watchdogs)', () => {
  it('heartbeats flow once subscribed, stop on stopHeartbeats(), resume on startHeartbeats()', async () => {
    const c = await connect(emu.wsUrl);
    c.send({ method: 'subscribe', params: { channel: 'ticker', symbol: ['BTC/USD'] } });
    await c.next(is('heartbeat'));
    emu.ws.stopHeartbeats();
    // a ping round trip flushes anything the server sent before the stop
    c.send({ method: 'ping', req_id: 11 });
    await c.next((m) => m.method === 'pong');
    c.drain();
    await expect(c.next(is('heartbeat'), 200)).rejects.toThrow(/timed out/);
    emu.ws.startHeartbeats();
    await c.next(is('heartbeat'));
    c.ws.close();
  });

  it('dropAll() kills every connection abruptly', async () => {
    const a = await connect(emu.wsUrl);
    const b = await connect(emu.wsUrl);
    expect(emu.ws.connections).toBeGreaterThanOrEqual(2);
    const closed = (c: typeof a) => new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    const codes = Promise.all([closed(a), closed(b)]);
    emu.ws.dropAll();
    expect(await codes).toEqual([1006, 1006]);
    expect(emu.ws.connections).toBe(0);
  });

  it('only /v2 upgrades', async () => {
    const ws = new WebSocket(emu.wsUrl.replace('/v2', '/v1'));
    await expect(new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))).rejects.toThrow();
  });
});
