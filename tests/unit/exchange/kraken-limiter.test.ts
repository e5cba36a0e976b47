import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VirtualClock } from '../../../lib/clock.ts';
import { KrakenLimiter, LeakyBucket, REST_LIMITS, amendCost, cancelPenalty, restCost } from '../../../lib/exchange/kraken-limiter.ts';

describe('Kraken counter costs', () => {
  it.each([
    ['BalanceEx', 1],
    ['OpenOrders', 1],
    ['TradeVolume', 1],
    ['ClosedOrders', 2],
    ['TradesHistory', 2],
    ['Ledgers', 2],
    ['QueryOrders', 1],
    ['AddOrder', 0],
    ['CancelOrder', 0],
    ['AmendOrder', 1], // not on Kraken's list of REST-exempt methods
  ])('REST cost of %s is %i', (method, cost) => expect(restCost(method)).toBe(cost));

  it.each([
    [0, 8],
    [4_999, 8],
    [5_000, 6],
    [10_000, 5],
    [15_000, 4],
    [45_000, 2],
    [90_000, 1],
    [300_000, 0],
  ])('cancel penalty at age %i ms is %i', (age, pts) => expect(cancelPenalty(age)).toBe(pts));

  it.each([
    [0, 4],
    [4_999, 4],
    [5_000, 3],
    [10_000, 2],
    [15_000, 1],
    [3_600_000, 1],
  ])('amend cost at age %i ms is %i', (age, pts) => expect(amendCost(age)).toBe(pts));
});

describe('LeakyBucket', () => {
  it('decays at its rate and says how long to wait', () => {
    const clock = new VirtualClock(0);
    const b = new LeakyBucket(15, 0.33, clock);
    for (let i = 0; i < 14; i++) b.add(1);
    expect(b.waitMs(1, 1)).toBe(0 + Math.ceil((1 / 0.33) * 1000)); // 14 + 1 > 14
    clock.advance(10_000);
    expect(b.level()).toBeCloseTo(14 - 3.3, 6);
    expect(b.waitMs(1, 1)).toBe(0);
  });

  it('waiting what waitMs says always keeps the counter at or under max - headroom', () => {
    fc.assert(
      fc.property(fc.constantFrom('starter', 'intermediate', 'pro' as const), fc.array(fc.tuple(fc.constantFrom('BalanceEx', 'ClosedOrders', 'TradesHistory'), fc.integer({ min: 0, max: 3000 })), { maxLength: 200 }), (tier, calls) => {
        const clock = new VirtualClock(0);
        const lim = new KrakenLimiter({ tier, clock });
        for (const [method, gap] of calls) {
          clock.advance(gap);
          for (let w = lim.waitMs(method); w > 0; w = lim.waitMs(method)) clock.advance(w);
          lim.record(method);
          if (lim.rest.level() > REST_LIMITS[tier].max - 1 + 1e-9) return false;
        }
        return true;
      }),
    );
  });
});

describe('KrakenLimiter', () => {
  it('holds every call until a lockout has passed, and says it is the lockout', () => {
    const clock = new VirtualClock(1_000);
    const lim = new KrakenLimiter({ tier: 'pro', clock, lockoutMs: 900_000 });
    expect(lim.lockedOut()).toBe(901_000);
    expect(lim.hold('BalanceEx')).toEqual({ ms: 900_000, reason: 'lockout' });
    expect(lim.lockoutLeftMs()).toBe(900_000);
    clock.advance(900_000);
    expect(lim.hold('BalanceEx')).toEqual({ ms: 0, reason: null });
    expect(lim.lockoutLeftMs()).toBe(0);
  });

  it('treats a rate-limit answer as a full counter', () => {
    const clock = new VirtualClock(0);
    const lim = new KrakenLimiter({ tier: 'pro', clock });
    lim.rateLimited('rest');
    expect(lim.hold('BalanceEx')).toEqual({ ms: 2_000, reason: 'rest' }); // 20 + 1 - 19 = 2 points at 1/s
    lim.rateLimited('trading', 'XXBTZUSD');
    expect(lim.hold('AddOrder', { pair: 'XXBTZUSD', cost: 1 }).reason).toBe('trading');
    expect(lim.waitMs('AddOrder', { pair: 'XXBTZUSD', cost: 1 })).toBeGreaterThan(0);
    expect(lim.waitMs('AddOrder', { pair: 'XETHZUSD', cost: 1 })).toBe(0); // order entry is not on the REST counter
  });

  it('counts trading per pair', () => {
    const clock = new VirtualClock(0);
    const lim = new KrakenLimiter({ tier: 'starter', clock });
    for (let i = 0; i < 59; i++) lim.record('AddOrder', { pair: 'XXBTZUSD', cost: 1 });
    expect(lim.waitMs('AddOrder', { pair: 'XXBTZUSD', cost: 1 })).toBe(1_000);
    expect(lim.waitMs('AddOrder', { pair: 'XETHZUSD', cost: 1 })).toBe(0);
  });

  it('an amend is on both counters', () => {
    const clock = new VirtualClock(0);
    const lim = new KrakenLimiter({ tier: 'pro', clock });
    for (let i = 0; i < 19; i++) lim.record('BalanceEx');
    expect(lim.waitMs('AmendOrder', { pair: 'XXBTZUSD', cost: 4 })).toBeGreaterThan(0); // the REST counter is full
    expect(lim.waitMs('AddOrder', { pair: 'XXBTZUSD', cost: 1 })).toBe(0); // order entry is not
  });

  it('on a clock that does not move, a wait never shrinks (why the broker refuses to sleep on one)', () => {
    const frozen = new VirtualClock(5_000);
    const lim = new KrakenLimiter({ tier: 'starter', clock: frozen });
    for (let i = 0; i < 14; i++) lim.record('BalanceEx');
    const w = lim.waitMs('BalanceEx');
    expect(w).toBeGreaterThan(0);
    expect(lim.waitMs('BalanceEx')).toBe(w);
  });
});
