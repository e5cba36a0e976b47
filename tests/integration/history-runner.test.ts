import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle } from '../../lib/market/candle.ts';
import type { ClosedCandleSource, ClosedSince } from '../../lib/market/kraken-rest.ts';
import { NetworkError } from '../../lib/market/network-error.ts';
import { storedSpan } from '../../lib/market/backfill.ts';
import { HistoryRunner, type HistoryProgress } from '../../lib/runtime/first-start.ts';
import { createLogger } from '../../lib/log.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const H = 3_600_000;
const now = Date.UTC(2026, 11, 7, 4, 20);
const end = Date.UTC(2026, 11, 7, 4);
const clock = { now: () => now };

const bars = (pair: string, from: number, to: number): Candle[] => {
  const out: Candle[] = [];
  for (let t = from, p = 100; t < to; t += H, p *= 1.001) out.push({ pair, interval: 3600, openTime: t, open: p, high: p * 1.002, low: p * 0.998, close: p * 1.001, volume: 5 });
  return out;
};

/** A Kraken that refuses the connection `failures` times, then serves its 720-bar window. */
class FlakyKraken implements ClosedCandleSource {
  calls = 0;
  constructor(private failures: number) {}
  async closedSince(pair: string, _interval: number, after: number | null): Promise<ClosedSince> {
    this.calls++;
    if (this.failures-- > 0) throw new NetworkError('api.kraken.example', 'ECONNREFUSED connect 127.0.0.1:443', { cause: new Error('refused') });
    return { candles: bars(pair, end - 719 * H, end).filter((c) => after === null || c.openTime > after), truncated: true };
  }
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('HistoryRunner', () => {
  it('says once that a host is unreachable, retries with backoff until it answers, fills every pair and queues one training run', async () => {
    const logs: Array<{ level: number; msg: string; host?: string }> = [];
    const logger = createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });
    const kraken = new FlakyKraken(4);
    const older = { 'BTC/USD': bars('BTC/USD', end - 364 * 24 * H, end - 719 * H), 'ETH/USD': bars('ETH/USD', end - 100 * 24 * H, end - 719 * H), 'SOL/USD': [] };
    const seen: HistoryProgress[] = [];
    let trained = 0;
    const runner = new HistoryRunner({
      db: db.app.db,
      clock,
      logger,
      sources: { recent: { source: { kind: 'kraken', client: kraken }, host: 'api.kraken.example' }, older: { source: { kind: 'candles', series: older }, host: 'recorded' } },
      train: async () => void trained++,
      onProgress: (p) => seen.push(p),
      backoffMs: 20,
    });
    runner.start();
    for (let i = 0; i < 400 && runner.progress.state !== 'done'; i++) await new Promise((r) => setTimeout(r, 50));
    await runner.stop();

    expect(runner.progress).toMatchObject({ state: 'done', done: 1, pairs: ['BTC/USD', 'ETH/USD', 'SOL/USD'], source: 'live' });
    expect(kraken.calls).toBe(4 + 3); // four refused attempts, then one window per pair
    const warnings = logs.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ host: 'api.kraken.example', msg: expect.stringMatching(/^history: cannot reach api\.kraken\.example \(ECONNREFUSED .*retries with backoff/) });
    expect(logs.filter((l) => l.msg === 'history: still unreachable')).toHaveLength(3); // the retries, at debug only
    expect(logs.some((l) => l.msg === 'history: api.kraken.example answers again')).toBe(true);
    expect(seen.some((p) => p.state === 'offline' && p.error?.includes('cannot reach api.kraken.example') && p.retryAt)).toBe(true);
    expect(trained).toBe(1);
    expect(await storedSpan(db.app.db, 'BTC/USD', 3600)).toEqual({ first: end - 364 * 24 * H, last: end - H });
    expect(await storedSpan(db.app.db, 'ETH/USD', 3600)).toEqual({ first: end - 100 * 24 * H, last: end - H });
    expect(runner.progress.bars).toBe(364 * 24 + 100 * 24 + 719);
  });
});
