import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { ClosedCandleSource } from '../../../lib/market/kraken-rest.ts';
import { KrakenLiveFeed, type FeedEvent, type Timers } from '../../../lib/market/kraken-ws.ts';

/** Timers that only run when the test moves time: the watchdog and backoff are checked to the millisecond. */
class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private tasks = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.tasks.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.tasks.delete(h as number);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = [...this.tasks].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.tasks.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = until;
  }
}

/** Just enough of a ws client: the feed's listeners, what it sends, and terminate → close. */
class FakeSocket extends EventEmitter {
  sent: unknown[] = [];
  terminated = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  terminate(): void {
    if (this.terminated) return;
    this.terminated = true;
    this.emit('close', 1006, Buffer.from(''));
  }
  message(m: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(m)));
  }
}

const noRest: ClosedCandleSource = {
  closedSince: () => Promise.reject(new Error('REST must not be called in these tests')),
};

function setup() {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const events: FeedEvent[] = [];
  const feed = new KrakenLiveFeed({
    url: 'ws://unused',
    pairs: ['BTC/USD'],
    interval: 3600,
    rest: noRest,
    onCandle: () => undefined,
    onEvent: (e) => void events.push(e),
    watchdogMs: 1000,
    backoff: { initialMs: 500, maxMs: 4000, factor: 2, jitter: 0.5 },
    random: () => 0, // no jitter taken off: delays are the plain exponential
    timers,
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s as unknown as WebSocket;
    },
  });
  return { timers, sockets, events, feed, delays: () => events.flatMap((e) => (e.type === 'reconnect-scheduled' ? [e.delayMs] : [])) };
}

describe('KrakenLiveFeed timing (injected timers, fake socket)', () => {
  it('subscribes to ohlc on open and recycles the connection after exactly watchdogMs of silence', () => {
    const { timers, sockets, events, feed } = setup();
    feed.start();
    sockets[0]!.emit('open');
    expect(sockets[0]!.sent).toEqual([{ method: 'subscribe', params: { channel: 'ohlc', symbol: ['BTC/USD'], interval: 60, snapshot: true } }]);
    timers.advance(999);
    sockets[0]!.message({ channel: 'heartbeat' }); // any traffic re-arms the watchdog
    timers.advance(999);
    expect(sockets[0]!.terminated).toBe(false);
    timers.advance(1);
    expect(sockets[0]!.terminated).toBe(true);
    expect(events.filter((e) => e.type === 'watchdog')).toEqual([{ type: 'watchdog', silentMs: 1000 }]);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2); // reconnected after the first backoff step
  });

  it('backs off 500, 1000, 2000, 4000, 4000 ms while connections fail, and starts over after a working subscription', async () => {
    const { timers, sockets, feed, delays } = setup();
    feed.start();
    for (let i = 0; i < 5; i++) {
      sockets.at(-1)!.emit('error', new Error('ECONNREFUSED'));
      sockets.at(-1)!.terminate();
      timers.advance(delays().at(-1)!);
    }
    expect(delays()).toEqual([500, 1000, 2000, 4000, 4000]);
    const s = sockets.at(-1)!;
    s.emit('open');
    s.message({ method: 'subscribe', success: true, result: { channel: 'ohlc', symbol: 'BTC/USD', interval: 60, snapshot: true } });
    s.terminate();
    expect(delays().at(-1)).toBe(500);
    await feed.stop();
  });

  it('a refused subscription is reported, not retried in a loop; stop() cancels a pending reconnect', async () => {
    const { timers, sockets, events, feed } = setup();
    feed.start();
    sockets[0]!.emit('open');
    sockets[0]!.message({ method: 'subscribe', success: false, error: 'Currency pair not supported', symbol: 'BTC/USD' });
    expect(events.filter((e) => e.type === 'error').map((e) => (e as { error: Error }).error.message)).toEqual(['subscribe BTC/USD refused: Currency pair not supported']);
    sockets[0]!.terminate();
    await feed.stop();
    timers.advance(60_000);
    expect(sockets).toHaveLength(1);
  });

  it('jitter takes up to its fraction off each delay', () => {
    const timers = new ManualTimers();
    const events: FeedEvent[] = [];
    const sockets: FakeSocket[] = [];
    const feed = new KrakenLiveFeed({
      url: 'ws://unused', pairs: ['BTC/USD'], interval: 3600, rest: noRest, onCandle: () => undefined, onEvent: (e) => void events.push(e), timers,
      backoff: { initialMs: 1000, jitter: 0.5 }, random: () => 0.9,
      createSocket: () => (sockets.push(new FakeSocket()), sockets.at(-1) as unknown as WebSocket),
    });
    feed.start();
    sockets[0]!.terminate();
    expect(events.find((e) => e.type === 'reconnect-scheduled')).toEqual({ type: 'reconnect-scheduled', attempt: 1, delayMs: 550 });
  });
});
