import { describe, expect, it } from 'vitest';
import type { BrokerOrder } from '../../../lib/exchange/types.ts';
import { groupExposure, grossExposure, pairExposure, restingBuyNotional } from '../../../lib/risk/index.ts';
import { ctx } from './fixtures.ts';

const order = (o: Partial<BrokerOrder>): BrokerOrder => ({
  id: 'O1', clientId: null, pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 1, price: 49_000, status: 'open', filled: 0, avgPrice: null, fee: 0, createdAt: 0, ...o,
});

describe('restingBuyNotional', () => {
  const marks = { 'BTC/USD': 50_000, 'ETH/USD': 2_500 };
  it.each([
    ['an open limit buy below the mark counts at the mark', [order({ price: 49_000 })], { 'BTC/USD': 50_000 }],
    ['above the mark at its limit', [order({ price: 51_000 })], { 'BTC/USD': 51_000 }],
    ['only the unfilled remainder', [order({ amount: 1, filled: 0.25 })], { 'BTC/USD': 37_500 }],
    ['a market remainder at the mark', [order({ type: 'market', price: null, amount: 2, filled: 1 })], { 'BTC/USD': 50_000 }],
    ['pending counts, sells and final orders do not', [order({ status: 'pending' }), order({ side: 'sell' }), order({ status: 'closed' }), order({ status: 'canceled' })], { 'BTC/USD': 50_000 }],
    ['per pair, summed', [order({}), order({ pair: 'ETH/USD', amount: 2, price: 2_400 }), order({ amount: 0.5 })], { 'BTC/USD': 75_000, 'ETH/USD': 5_000 }],
    ['nothing open', [], {}],
  ] as Array<[string, BrokerOrder[], Record<string, number>]>)('%s', (_name, orders, want) => {
    expect(restingBuyNotional(orders, marks)).toEqual(want);
  });
});

describe('exposure with resting buys', () => {
  it('pair, group and gross exposure add resting notional to held positions; stablecoins never count', () => {
    const c = ctx({ resting: { 'BTC/USD': 5_000, 'ETH/USD': 3_000, 'SOL/USD': 1_000, 'USDC/USD': 9_000 }, groupOf: { 'BTC/USD': 0, 'ETH/USD': 0, 'SOL/USD': 1, 'USDC/USD': 0 } });
    expect(pairExposure(c, 'BTC/USD')).toBe(10_000 + 5_000);
    expect(pairExposure(c, 'ETH/USD')).toBe(3_000);
    expect(groupExposure(c, 'ETH/USD')).toBe(10_000 + 5_000 + 3_000);
    expect(groupExposure(c, 'SOL/USD')).toBe(1_000);
    expect(grossExposure(c)).toBe(10_000 + 5_000 + 3_000 + 1_000);
  });
});
