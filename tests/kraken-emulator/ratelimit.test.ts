import { describe, expect, it } from 'vitest';
import { ADD_ORDER_COST, DecayingCounter, REST_TIERS, RestLimiter, TRADING_TIERS, amendCost, cancelPenalty, restCost, type Tier } from './ratelimit.ts';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

describe('REST counter tiers', () => {
  it.each<[Tier, number, number]>([
    ['starter', 15, 0.33],
    ['intermediate', 20, 0.5],
    ['pro', 20, 1],
  ])('%s: max %d, decays %d/s', (tier, max, decay) => {
    expect(REST_TIERS[tier]).toEqual({ max, decayPerSec: decay });
    const c = clock();
    const lim = new RestLimiter(tier, c.now);
    for (let i = 0; i < max; i++) expect(lim.admit('Balance')).toBe('ok');
    expect(lim.admit('Balance')).toBe('EAPI:Rate limit exceeded');
    // exactly enough decay for one more call
    c.tick(Math.ceil(1000 / decay));
    expect(lim.admit('Balance')).toBe('ok');
    expect(lim.admit('Balance')).toBe('EAPI:Rate limit exceeded');
  });

  it.each([
    ['Balance', 1],
    ['OpenOrders', 1],
    ['TradesHistory', 2],
    ['Ledgers', 2],
    ['QueryTrades', 2],
    ['ClosedOrders', 2],
    ['QueryLedgers', 2],
    ['AddOrder', 0],
    ['CancelOrder', 0],
    // Kraken exempts only "AddOrder, CancelOrder" from the call counter: everything else costs +1
    ['AmendOrder', 1],
    ['CancelAll', 1],
  ])('%s costs %d on the REST counter', (method, cost) => {
    expect(restCost(method)).toBe(cost);
  });

  it('decays linearly on the injected clock and never below zero', () => {
    const c = clock();
    const counter = new DecayingCounter(15, 0.33, c.now);
    expect(counter.tryAdd(10)).toBe(true);
    c.tick(10_000);
    expect(counter.level()).toBeCloseTo(10 - 3.3, 9);
    c.tick(60_000);
    expect(counter.level()).toBe(0);
  });

  it('a refused call adds nothing', () => {
    const c = clock();
    const counter = new DecayingCounter(3, 1, c.now);
    expect(counter.tryAdd(3)).toBe(true);
    expect(counter.tryAdd(1)).toBe(false);
    expect(counter.level()).toBe(3);
  });

  it('repeated breaches lock the key out for the lockout period', () => {
    const c = clock();
    const lim = new RestLimiter('starter', c.now, { breaches: 3, windowMs: 60_000, lockoutMs: 30_000 });
    for (let i = 0; i < 15; i++) lim.admit('Balance');
    expect(lim.admit('Balance')).toBe('EAPI:Rate limit exceeded');
    expect(lim.admit('Balance')).toBe('EAPI:Rate limit exceeded');
    expect(lim.admit('Balance')).toBe('EGeneral:Temporary lockout');
    c.tick(29_000); // the counter has decayed a lot, but the lockout holds
    expect(lim.admit('Balance')).toBe('EGeneral:Temporary lockout');
    c.tick(1_000);
    expect(lim.admit('Balance')).toBe('ok');
  });

  it('invalid nonces and signatures are breaches too: enough of them lock the key out', () => {
    const c = clock();
    const lim = new RestLimiter('pro', c.now, { breaches: 3, windowMs: 10_000, lockoutMs: 15 * 60_000 });
    expect(lim.strike()).toBe(false);
    c.tick(11_000); // outside the window: forgotten
    expect(lim.strike()).toBe(false);
    expect(lim.strike()).toBe(false);
    expect(lim.strike()).toBe(true);
    expect(lim.admit('Balance')).toBe('EGeneral:Temporary lockout');
    c.tick(15 * 60_000);
    expect(lim.admit('Balance')).toBe('ok');
  });
});

describe('trading counter', () => {
  it.each([
    [0, 8],
    [4_999, 8],
    [5_000, 6],
    [9_999, 6],
    [10_000, 5],
    [15_000, 4],
    [44_999, 4],
    [45_000, 2],
    [90_000, 1],
    [299_999, 1],
    [300_000, 0],
  ])('cancelling an order aged %d ms costs %d', (age, penalty) => {
    expect(cancelPenalty(age)).toBe(penalty);
  });

  it.each([
    [0, 4],
    [4_999, 4],
    [5_000, 3],
    [9_999, 3],
    [10_000, 2],
    [14_999, 2],
    [15_000, 1],
    [3_600_000, 1],
  ])('amending an order aged %d ms costs %d (fixed +1, then +3/+2/+1 under 5/10/15 s)', (age, cost) => {
    expect(amendCost(age)).toBe(cost);
  });

  it('adding an order costs a fixed +1', () => {
    expect(ADD_ORDER_COST).toBe(1);
  });

  it.each<[Tier, number, number]>([
    ['starter', 60, 1],
    ['intermediate', 125, 2.34],
    ['pro', 180, 3.75],
  ])('%s: max %d, decays %d/s', (tier, max, decay) => {
    expect(TRADING_TIERS[tier]).toEqual({ max, decayPerSec: decay });
  });
});
