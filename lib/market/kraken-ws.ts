import { WebSocket } from 'ws';
import { z } from 'zod';
import type { Candle } from './candle.ts';
import { krakenIntervalMinutes, type ClosedCandleSource } from './kraken-rest.ts';

export type FeedEvent =
  | { type: 'connected'; attempt: number }
  | { type: 'subscribed'; pair: string }
  | { type: 'disconnected'; code: number; reason: string }
  | { type: 'reconnect-scheduled'; attempt: number; delayMs: number }
  | { type: 'watchdog'; silentMs: number }
  | { type: 'backfill'; pair: string; reason: 'reconnect' | 'gap'; after: number; candles: number }
  | { type: 'gap-unfilled'; pair: string; after: number; before: number | null; missing: number | null }
  | { type: 'error'; error: Error };

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface BackoffOptions {
  initialMs?: number; // default 500
  maxMs?: number; // default 30 000
  factor?: number; // default 2
  /** Fraction of each delay that is randomised away (0..1, default 0.5): reconnect storms spread out. */
  jitter?: number;
}

export interface KrakenLiveFeedOptions {
  /** WebSocket v2 public endpoint, e.g. wss://ws.kraken.com/v2. */
  url: string;
  /** Unified symbols; Kraken v2 uses them as they are ("BTC/USD"). */
  pairs: readonly string[];
  /** Bar interval in seconds. */
  interval: number;
  /** REST source for the bars missed while disconnected or skipped by the stream. */
  rest: ClosedCandleSource;
  /** Receives each closed bar once, per pair in strictly increasing, gap-free order. Awaited. */
  onCandle: (c: Candle) => void | Promise<void>;
  onEvent?: (e: FeedEvent) => void;
  /** Per pair, the open time of the newest bar the consumer already has; the feed resumes after it. */
  after?: Readonly<Record<string, number>>;
  /** No heartbeat or data for this long → the connection is considered dead (default 10 s; Kraken beats ~1/s). */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  timers?: Timers;
  createSocket?: (url: string) => WebSocket;
}

const ohlcMessage = z.object({
  channel: z.literal('ohlc'),
  type: z.enum(['snapshot', 'update']),
  data: z.array(
    z.object({
      symbol: z.string(),
      open: z.number(),
      high: z.number(),
      low: z.number(),
      close: z.number(),
      volume: z.number(),
      interval_begin: z.string(),
      interval: z.number(),
    }),
  ),
});

const subscribeAck = z.object({
  method: z.literal('subscribe'),
  success: z.boolean(),
  error: z.string().optional(),
  symbol: z.string().optional(),
  result: z.object({ symbol: z.string() }).optional(),
});

interface PairState {
  /** Open time of the newest bar handed to onCandle. */
  lastEmitted: number | null;
  /** The newest bar seen on the stream; it is closed once a later bar shows up. */
  current: Candle | null;
  /** No resume point and no snapshot read yet: the first snapshot only says where the series starts. */
  fresh: boolean;
  /** Open time of the bar after a hole REST could not fill (reported once, not re-fetched). */
  holeBefore: number | null;
}

/**
 * Kraken WebSocket v2 `ohlc` feed that hands out closed bars. Kraken streams the CURRENT bar as it
 * changes; a bar is closed when the first update of the next one arrives. The feed reconnects with
 * exponential backoff and jitter, kills connections that go silent (heartbeat watchdog), and before it
 * emits anything newer after a reconnect or a jump in open times it fetches the missed bars over REST —
 * so consumers see each pair's series without gaps or duplicates, as far as Kraken's 720-bar REST
 * window reaches (beyond it a `gap-unfilled` event says so and the series resumes).
 *
 * All work runs on one promise chain, so a slow backfill holds back later messages instead of racing
 * them. A failed backfill or onCandle is reported as an `error` event and the connection is recycled;
 * the feed then retries from the last bar it delivered (at-least-once towards a failing consumer).
 */
export class KrakenLiveFeed {
  private readonly o: Required<Omit<KrakenLiveFeedOptions, 'after' | 'onEvent' | 'backoff'>> & { onEvent: (e: FeedEvent) => void; backoff: Required<BackoffOptions> };
  private readonly state = new Map<string, PairState>();
  private readonly minutes: number;
  private socket: WebSocket | null = null;
  private chain: Promise<void> = Promise.resolve();
  private watchdog: unknown = null;
  private reconnectTimer: unknown = null;
  private attempt = 0;
  private connections = 0;
  private stopped = true;

  constructor(opts: KrakenLiveFeedOptions) {
    this.minutes = krakenIntervalMinutes(opts.interval);
    if (opts.pairs.length === 0) throw new Error('KrakenLiveFeed needs at least one pair');
    this.o = {
      url: opts.url,
      pairs: opts.pairs,
      interval: opts.interval,
      rest: opts.rest,
      onCandle: opts.onCandle,
      onEvent: opts.onEvent ?? (() => undefined),
      watchdogMs: opts.watchdogMs ?? 10_000,
      backoff: { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.5, ...opts.backoff },
      random: opts.random ?? Math.random,
      timers: opts.timers ?? realTimers,
      createSocket: opts.createSocket ?? ((url) => new WebSocket(url)),
    };
    for (const p of opts.pairs) this.state.set(p, { lastEmitted: opts.after?.[p] ?? null, current: null, fresh: opts.after?.[p] === undefined, holeBefore: null });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection, cancels timers and waits for the work in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.timers.clearTimeout(this.watchdog);
    this.o.timers.clearTimeout(this.reconnectTimer);
    this.socket?.terminate();
    this.socket = null;
    await this.chain;
  }

  /** Open time of the newest bar delivered for a pair. */
  lastDelivered(pair: string): number | null {
    return this.state.get(pair)?.lastEmitted ?? null;
  }

  private get step(): number {
    return this.o.interval * 1000;
  }

  private connect(): void {
    const ws = this.o.createSocket(this.o.url);
    this.socket = ws;
    ws.on('open', () => {
      if (ws !== this.socket) return;
      const reconnect = this.connections > 0;
      this.connections++;
      this.o.onEvent({ type: 'connected', attempt: this.attempt });
      this.arm();
      if (reconnect) {
        // Behind whatever the old connection still has queued: what was "current" before the drop may
        // have closed unseen, and REST has its final values.
        this.enqueue(async () => {
          for (const s of this.state.values()) s.current = null;
        });
        for (const pair of this.o.pairs) this.enqueue(() => this.backfill(pair, 'reconnect', null));
      }
      ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ohlc', symbol: [...this.o.pairs], interval: this.minutes, snapshot: true } }));
    });
    ws.on('message', (raw: Buffer) => {
      if (ws !== this.socket) return;
      this.arm();
      let msg: unknown;
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        this.o.onEvent({ type: 'error', error: new Error(`unparseable WebSocket message: ${raw.toString().slice(0, 200)}`) });
        return;
      }
      this.onMessage(msg);
    });
    ws.on('error', (err: Error) => this.o.onEvent({ type: 'error', error: err }));
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.socket) return;
      this.socket = null;
      this.o.timers.clearTimeout(this.watchdog);
      this.o.onEvent({ type: 'disconnected', code, reason: reason.toString() });
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const b = this.o.backoff;
    this.attempt++;
    const base = Math.min(b.maxMs, b.initialMs * b.factor ** (this.attempt - 1));
    const delayMs = Math.round(base * (1 - b.jitter * this.o.random()));
    this.o.onEvent({ type: 'reconnect-scheduled', attempt: this.attempt, delayMs });
    this.reconnectTimer = this.o.timers.setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delayMs);
  }

  /** (Re)starts the silence timer; when it fires the socket is killed and the close handler reconnects. */
  private arm(): void {
    this.o.timers.clearTimeout(this.watchdog);
    const ws = this.socket;
    this.watchdog = this.o.timers.setTimeout(() => {
      if (ws !== this.socket || !ws) return;
      this.o.onEvent({ type: 'watchdog', silentMs: this.o.watchdogMs });
      ws.terminate();
    }, this.o.watchdogMs);
  }

  private recycle(): void {
    this.socket?.terminate();
  }

  private enqueue(task: () => Promise<void>): void {
    this.chain = this.chain.then(task).catch((err: unknown) => {
      this.o.onEvent({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      this.recycle();
    });
  }

  private onMessage(msg: unknown): void {
    const m = msg as { channel?: unknown; method?: unknown };
    if (m.method === 'subscribe') {
      const ack = subscribeAck.safeParse(msg);
      if (!ack.success) return this.o.onEvent({ type: 'error', error: new Error(`bad subscribe reply: ${ack.error.message}`) });
      if (!ack.data.success) return this.o.onEvent({ type: 'error', error: new Error(`subscribe ${ack.data.symbol ?? ''} refused: ${ack.data.error ?? 'unknown error'}`) });
      this.attempt = 0; // a working subscription ends the backoff sequence
      return this.o.onEvent({ type: 'subscribed', pair: ack.data.result?.symbol ?? '' });
    }
    if (m.channel !== 'ohlc') return; // heartbeat, status: only the watchdog cares
    const parsed = ohlcMessage.safeParse(msg);
    if (!parsed.success) return this.o.onEvent({ type: 'error', error: new Error(`bad ohlc message: ${parsed.error.message}`) });
    const snapshot = parsed.data.type === 'snapshot';
    const bars = parsed.data.data
      .filter((d) => d.interval === this.minutes && this.state.has(d.symbol))
      .map(
        (d): Candle => ({ pair: d.symbol, interval: this.o.interval, openTime: Date.parse(d.interval_begin), open: d.open, high: d.high, low: d.low, close: d.close, volume: d.volume }),
      )
      .sort((a, b) => a.openTime - b.openTime);
    this.enqueue(async () => {
      for (const bar of bars) await this.onBar(bar, snapshot);
      if (snapshot) for (const bar of bars) this.state.get(bar.pair)!.fresh = false;
    });
  }

  private async onBar(bar: Candle, snapshot: boolean): Promise<void> {
    if (!Number.isFinite(bar.openTime)) throw new Error(`ohlc bar of ${bar.pair} has an unreadable interval_begin`);
    const s = this.state.get(bar.pair)!;
    const cur = s.current;
    if (cur && bar.openTime < cur.openTime) return; // late update of a bar already superseded
    if (cur && bar.openTime === cur.openTime) {
      s.current = bar;
      return;
    }
    if (cur && bar.openTime > cur.openTime + this.step && !(s.fresh && snapshot)) {
      // The stream skipped bars, so updates were lost — maybe the last ones of `cur` too: REST has the final values.
      // (A jump among bars already delivered — an old hole in a snapshot — needs nothing.)
      if (s.lastEmitted !== null && !s.fresh && bar.openTime > s.lastEmitted + this.step && bar.openTime !== s.holeBefore) await this.backfill(bar.pair, 'gap', bar.openTime);
      const after = s.lastEmitted;
      if (after === null) await this.closed(cur, snapshot);
      else if (cur.openTime > after) await this.emit(cur); // REST did not have it (hole already reported): the stream's copy
    } else if (cur) await this.closed(cur, snapshot);
    s.current = bar;
  }

  private async closed(bar: Candle, snapshot: boolean): Promise<void> {
    const s = this.state.get(bar.pair)!;
    if (s.fresh && snapshot) {
      // First contact without a resume point: the snapshot's history only sets where we start.
      s.lastEmitted = bar.openTime;
      return;
    }
    if (s.lastEmitted === null) return this.emit(bar);
    if (bar.openTime <= s.lastEmitted) return; // already delivered (snapshot after a reconnect, REST overlap)
    if (bar.openTime > s.lastEmitted + this.step && bar.openTime !== s.holeBefore) await this.backfill(bar.pair, 'gap', bar.openTime);
    await this.emit(bar);
  }

  /** Delivers the REST bars after the last delivered one (and before `before`, when given). */
  private async backfill(pair: string, reason: 'reconnect' | 'gap', before: number | null): Promise<void> {
    const s = this.state.get(pair)!;
    const after = s.lastEmitted;
    if (after === null) return;
    const got = await this.o.rest.closedSince(pair, this.o.interval, after);
    const bars = got.candles.filter((c) => c.openTime > after && (before === null || c.openTime < before));
    for (const c of bars) await this.emit(c);
    this.o.onEvent({ type: 'backfill', pair, reason, after, candles: bars.length });
    const reached = s.lastEmitted ?? after;
    if (got.truncated || (before !== null && reached + this.step < before)) {
      const missing = before === null ? null : Math.round((before - reached) / this.step) - 1;
      s.holeBefore = before;
      this.o.onEvent({ type: 'gap-unfilled', pair, after: reached, before, missing });
    }
  }

  private async emit(c: Candle): Promise<void> {
    await this.o.onCandle(c);
    this.state.get(c.pair)!.lastEmitted = c.openTime;
  }
}
