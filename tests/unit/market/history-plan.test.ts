import { describe, expect, it } from 'vitest';
import { failureReason, historyPlan } from '../../../lib/market/backfill.ts';
import { marketDataOf } from '../../../lib/http/market-health.ts';

const H = 3_600_000;
const D = 24 * H;
const now = Date.UTC(2026, 11, 7, 4, 20); // the open bar is 04:00
const end = Date.UTC(2026, 11, 7, 4);
const opts = { depthBars: 364 * 24, interval: 3600 };

/** Every hour a plan covers, to check there is neither a hole nor an overlap. */
const hours = (segs: ReturnType<typeof historyPlan>): number[] => segs.flatMap((s) => Array.from({ length: (s.to - s.from) / H }, (_, i) => s.from + i * H)).sort((a, b) => a - b);

describe('historyPlan', () => {
  it('on an empty store: Kraken\'s window first, then older history backwards in windows of at most 89 days, down to the depth', () => {
    const plan = historyPlan('BTC/USD', null, now, opts);
    expect(plan[0]).toEqual({ pair: 'BTC/USD', source: 'recent', from: end - 719 * H, to: end });
    const older = plan.slice(1);
    expect(older.every((s) => s.source === 'older' && s.to - s.from <= 89 * D)).toBe(true);
    expect(older.map((s) => s.to)).toEqual([...older.map((s) => s.to)].sort((a, b) => b - a)); // newest first: resumes from the oldest stored bar
    const all = hours(plan);
    expect(all[0]).toBe(end - 364 * D);
    expect(all.at(-1)).toBe(end - H); // the open bar is not asked for
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(364 * 24);
  });

  it('resumes: only what is missing before the oldest and after the newest stored bar, the gap since the last run through the older source when Kraken no longer reaches it', () => {
    const stored = { first: end - 100 * D, last: end - 40 * D };
    const plan = historyPlan('ETH/USD', stored, now, opts);
    const newer = plan.filter((s) => s.from > stored.last);
    expect(newer.map((s) => s.source)).toEqual(['older', 'recent']);
    expect(newer[0]!.from).toBe(stored.last + H);
    expect(newer[1]!.to).toBe(end);
    const before = plan.filter((s) => s.to <= stored.first);
    expect(before[0]!.to).toBe(stored.first);
    expect(Math.min(...before.map((s) => s.from))).toBe(end - 364 * D);
    const all = hours(plan);
    expect(all.some((t) => t >= stored.first && t <= stored.last)).toBe(false);
    expect(all.length + (stored.last - stored.first) / H + 1).toBe(364 * 24);
  });

  it('asks for nothing when the store is complete', () => {
    expect(historyPlan('SOL/USD', { first: end - 364 * D, last: end - H }, now, opts)).toEqual([]);
  });
});

describe('failureReason', () => {
  it('names the network cause fetch hides behind "fetch failed"', () => {
    const cause = Object.assign(new Error('getaddrinfo ENOTFOUND api.kraken.com'), { code: 'ENOTFOUND' });
    expect(failureReason(new TypeError('fetch failed', { cause }))).toBe('getaddrinfo ENOTFOUND api.kraken.com');
    const refused = Object.assign(new Error('connect to 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(failureReason(new TypeError('fetch failed', { cause: refused }))).toBe('ECONNREFUSED connect to 127.0.0.1:9');
    expect(failureReason(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe('no answer within the timeout');
  });
});

describe('marketDataOf', () => {
  it('is fresh up to two intervals after the newest bar closed, stale beyond, none without bars', () => {
    expect(marketDataOf(null, now)).toEqual({ state: 'none', newestBar: null, ageMinutes: null });
    expect(marketDataOf(end - H, now)).toMatchObject({ state: 'fresh', ageMinutes: 20 });
    expect(marketDataOf(end - 3 * H, now + 0)).toMatchObject({ state: 'stale', ageMinutes: 140 });
    expect(marketDataOf(end - 3 * H, end - 3 * H + 3 * H)).toMatchObject({ state: 'fresh', ageMinutes: 120 });
  });
});
