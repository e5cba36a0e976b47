import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Candle } from '../../lib/market/candle.ts';
import { KrakenRestClient } from '../../lib/market/kraken-rest.ts';
import { KrakenLiveFeed, type FeedEvent } from '../../lib/market/kraken-ws.ts';
import { loadRepoCandles, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

const H = 3_600_000;
const repo = loadRepoCandles();
const START = 800;

async function waitFor(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A client socket that loses incoming messages while `dropping` is set (a lossy network in front of a live connection). */
class LossySocket extends WebSocket {
  static dropping = false;
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && LossySocket.dropping) return false;
    return super.emit(event, ...args);
  }
}

interface Harness {
  emu: KrakenEmulator;
  feed: KrakenLiveFeed;
  got: Candle[];
  events: FeedEvent[];
  count(type: FeedEvent['type']): number;
}

let h: Harness | null = null;
afterEach(async () => {
  await h?.feed.stop();
  await h?.emu.close();
  h = null;
  LossySocket.dropping = false;
});

async function harness(opts: { after?: Record<string, number>; heartbeatMs?: number; watchdogMs?: number; lossy?: boolean } = {}): Promise<Harness> {
  const emu = await startKrakenEmulator({ startIndex: START, heartbeatMs: opts.heartbeatMs ?? 50 });
  const got: Candle[] = [];
  const events: FeedEvent[] = [];
  const feed = new KrakenLiveFeed({
    url: emu.wsUrl,
    pairs: ['BTC/USD', 'ETH/USD'],
    interval: 3600,
    rest: new KrakenRestClient({ baseUrl: emu.url, timeoutMs: 2000 }),
    onCandle: (c) => void got.push(c),
    onEvent: (e) => void events.push(e),
    watchdogMs: opts.watchdogMs ?? 1000,
    backoff: { initialMs: 100, maxMs: 400, jitter: 0.5 },
    ...(opts.after ? { after: opts.after } : {}),
    ...(opts.lossy ? { createSocket: (url: string) => new LossySocket(url) } : {}),
  });
  h = { emu, feed, got, events, count: (type) => events.filter((e) => e.type === type).length };
  feed.start();
  await waitFor('both subscriptions', () => h!.count('subscribed') === 2);
  await waitFor('the snapshot to be read', () => feed.lastDelivered('BTC/USD') !== null && feed.lastDelivered('ETH/USD') !== null);
  return h;
}

const open = (i: number) => repo['BTC/USD']![i]!.openTime;
const of = (got: Candle[], pair: string) => got.filter((c) => c.pair === pair);
const indexOf = (c: Candle) => repo[c.pair]!.findIndex((r) => r.openTime === c.openTime);

/** Every pair's delivered series is strictly increasing, one bar apart, and equal to the replayed data. */
function expectGapFree(got: Candle[], pair: string, fromIndex: number, toIndex: number): void {
  const s = of(got, pair);
  expect(s.map(indexOf)).toEqual(Array.from({ length: toIndex - fromIndex + 1 }, (_, i) => fromIndex + i));
  for (let i = 1; i < s.length; i++) expect(s[i]!.openTime - s[i - 1]!.openTime).toBe(H);
  for (const c of s) expect(c).toEqual({ ...repo[pair]![indexOf(c)], pair, interval: 3600 });
}

describe('Kraken WebSocket v2 live feed (against the emulator)', () => {
  it('starts after the snapshot and emits each bar once it has closed', async () => {
    const t = await harness();
    expect(t.got).toEqual([]); // snapshot history is not replayed without a resume point
    expect(t.feed.lastDelivered('BTC/USD')).toBe(repo['BTC/USD']![START - 1]!.openTime);
    t.emu.advance(1);
    await waitFor('the bar open at start to close', () => t.got.length === 2);
    t.emu.advance(2);
    await waitFor('two more bars per pair', () => t.got.length === 6);
    expectGapFree(t.got, 'BTC/USD', START, START + 2);
    expectGapFree(t.got, 'ETH/USD', START, START + 2);
    expect(t.emu.calls('OHLC')).toHaveLength(0); // no REST needed while the stream is whole
  });

  it('resumes after a given bar: the gap up to the snapshot is filled (from the snapshot, REST not needed)', async () => {
    const after = repo['BTC/USD']![START - 10]!.openTime;
    const t = await harness({ after: { 'BTC/USD': after, 'ETH/USD': after } });
    await waitFor('the resumed history', () => t.got.length === 18);
    expectGapFree(t.got, 'BTC/USD', START - 9, START - 1);
    expectGapFree(t.got, 'ETH/USD', START - 9, START - 1);
  });

  it('reconnects after the emulator drops every connection and backfills the bars missed meanwhile over REST', async () => {
    const t = await harness();
    t.emu.advance(1);
    await waitFor('first live bars', () => t.got.length === 2);
    t.emu.ws.dropAll();
    t.emu.advance(5); // five more bars close while nobody listens
    await waitFor('the reconnect', () => t.count('connected') === 2 && t.count('subscribed') === 4);
    await waitFor('the missed bars', () => t.got.length === 12);
    expect(t.count('reconnect-scheduled')).toBeGreaterThanOrEqual(1);
    const backfills = t.events.filter((e) => e.type === 'backfill' && e.reason === 'reconnect');
    expect(backfills).toEqual([
      { type: 'backfill', pair: 'BTC/USD', reason: 'reconnect', after: repo['BTC/USD']![START]!.openTime, candles: 5 },
      { type: 'backfill', pair: 'ETH/USD', reason: 'reconnect', after: repo['ETH/USD']![START]!.openTime, candles: 5 },
    ]);
    expect(t.emu.calls('OHLC').map((r) => r.params.pair).sort(), JSON.stringify(t.emu.calls('OHLC').map((r) => r.params))).toEqual(['ETHUSD', 'XBTUSD']);
    t.emu.advance(1);
    await waitFor('live again', () => t.got.length === 14);
    // The snapshot after the reconnect spans old recorded holes; bars already delivered need no REST.
    expect(t.emu.calls('OHLC')).toHaveLength(2);
    expectGapFree(t.got, 'BTC/USD', START, START + 6);
    expectGapFree(t.got, 'ETH/USD', START, START + 6);
    expect(t.count('gap-unfilled')).toBe(0);
  });

  it('detects a gap in a live stream (lost messages) and fills it over REST before emitting the newer bar', async () => {
    const t = await harness({ lossy: true });
    t.emu.advance(1);
    await waitFor('first live bars', () => t.got.length === 2);
    LossySocket.dropping = true;
    t.emu.advance(3);
    await new Promise((r) => setTimeout(r, 100));
    LossySocket.dropping = false;
    t.emu.advance(1);
    await waitFor('the gap to be filled', () => t.got.length === 10);
    expect(t.count('connected')).toBe(1); // same connection throughout
    // Bars 801–804: 801's own final updates were lost too, so REST supplies it as well.
    expect(t.events.filter((e) => e.type === 'backfill').map((e) => (e as { reason: string; candles: number }).candles)).toEqual([4, 4]);
    expectGapFree(t.got, 'BTC/USD', START, START + 4);
    expectGapFree(t.got, 'ETH/USD', START, START + 4);
  });

  it('a failing REST backfill is reported, the connection recycled and the backfill retried — still no gap', async () => {
    const t = await harness();
    t.emu.advance(1);
    await waitFor('first live bars', () => t.got.length === 2);
    t.emu.faults.add({ method: 'OHLC', kind: 'http', status: 502 });
    t.emu.ws.dropAll();
    t.emu.advance(3);
    await waitFor('the missed bars', () => t.got.length === 8, 8000);
    expect(t.events.some((e) => e.type === 'error' && /HTTP 502/.test(e.error.message))).toBe(true);
    await waitFor('the connection to be recycled after the failure', () => t.count('connected') >= 3 && t.count('subscribed') >= 6);
    t.emu.advance(1);
    await waitFor('live again', () => t.got.length === 10);
    expectGapFree(t.got, 'BTC/USD', START, START + 4);
    expectGapFree(t.got, 'ETH/USD', START, START + 4);
  });

  it('a hole the exchange itself has (no bars recorded) is reported as gap-unfilled and the series resumes', async () => {
    const btc = repo['BTC/USD']!.slice(0, START + 10);
    const holed = [...btc.slice(0, START + 2), ...btc.slice(START + 5)]; // bars 802–804 never existed
    const emu = await startKrakenEmulator({ candles: { 'BTC/USD': holed }, startIndex: START, heartbeatMs: 50 });
    const got: Candle[] = [];
    const events: FeedEvent[] = [];
    const feed = new KrakenLiveFeed({ url: emu.wsUrl, pairs: ['BTC/USD'], interval: 3600, rest: new KrakenRestClient({ baseUrl: emu.url }), onCandle: (c) => void got.push(c), onEvent: (e) => void events.push(e) });
    h = { emu, feed, got, events, count: (type) => events.filter((e) => e.type === type).length };
    feed.start();
    await waitFor('the snapshot', () => feed.lastDelivered('BTC/USD') !== null);
    emu.advance(2); // 800 and 801 close; the next bar is 805
    await waitFor('bars up to the hole', () => got.length === 2);
    expect(events.filter((e) => e.type === 'gap-unfilled')).toEqual([{ type: 'gap-unfilled', pair: 'BTC/USD', after: open(START + 1), before: open(START + 5), missing: 3 }]);
    emu.advance(1);
    await waitFor('the bar after the hole', () => got.length === 3);
    expect(got.map(indexOf)).toEqual([START, START + 1, START + 5]);
    expect(h.count('gap-unfilled')).toBe(1); // reported once, not re-fetched
  });

  it('the heartbeat watchdog recycles a connection that has gone silent', async () => {
    const t = await harness({ heartbeatMs: 50, watchdogMs: 400 });
    t.emu.ws.stopHeartbeats();
    await waitFor('the watchdog', () => t.count('watchdog') >= 1, 3000);
    t.emu.ws.startHeartbeats();
    await waitFor('a new connection', () => t.count('connected') >= 2 && t.count('subscribed') >= 4, 3000);
    expect(t.emu.ws.connections).toBe(1);
    t.emu.advance(2);
    await waitFor('bars after the watchdog reconnect', () => t.got.length === 4);
    expectGapFree(t.got, 'BTC/USD', START, START + 1);
  });

  it('backs off exponentially (with jitter) while the endpoint refuses connections', async () => {
    const emu = await startKrakenEmulator({ startIndex: START });
    const url = emu.wsUrl.replace('/v2', '/nope'); // the emulator destroys upgrades off /v2
    const events: FeedEvent[] = [];
    const feed = new KrakenLiveFeed({
      url,
      pairs: ['BTC/USD'],
      interval: 3600,
      rest: new KrakenRestClient({ baseUrl: emu.url }),
      onCandle: () => undefined,
      onEvent: (e) => void events.push(e),
      backoff: { initialMs: 20, maxMs: 80, factor: 2, jitter: 0.5 },
      random: () => 0.5,
    });
    h = { emu, feed, got: [], events, count: (type) => events.filter((e) => e.type === type).length };
    feed.start();
    await waitFor('five attempts', () => h!.count('reconnect-scheduled') >= 5);
    const delays = events.flatMap((e) => (e.type === 'reconnect-scheduled' ? [e.delayMs] : [])).slice(0, 5);
    expect(delays).toEqual([15, 30, 60, 60, 60]); // 20·2^n capped at 80, minus half the jitter fraction
    expect(h.count('connected')).toBe(0);
  });
});
