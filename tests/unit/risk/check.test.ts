import { describe, expect, it } from 'vitest';
import { buyCost, checkOrder, reserveApproved, type RiskCode, type RiskContext } from '../../../lib/risk/index.ts';
import type { OrderIntent } from '../../../lib/strategy/intent.ts';
import { ctx, entry, intent, MARKETS, settings } from './fixtures.ts';

type Case = [string, OrderIntent, Partial<RiskContext>, RiskCode];

describe('checkOrder refusals', () => {
  const refusals: Case[] = [
    ['zero amount', entry('BTC/USD', 0), {}, 'INVALID_ORDER'],
    ['NaN amount', entry('BTC/USD', Number.NaN), {}, 'INVALID_ORDER'],
    ['limit without price', entry('BTC/USD', 0.01, {}, { type: 'limit' }), {}, 'INVALID_ORDER'],
    ['unknown side', entry('BTC/USD', 0.01, {}, { side: 'short' as never }), {}, 'INVALID_ORDER'],
    ['unknown intent kind', intent('margin' as never, { pair: 'BTC/USD', amount: 0.01 }), {}, 'INVALID_ORDER'],
    ['unknown pair', entry('DOGE/USD', 1), {}, 'NOT_SPOT_USD'],
    ['EUR-quoted pair', entry('BTC/EUR', 0.01), {}, 'NOT_SPOT_USD'],
    ['entry that sells (short)', entry('BTC/USD', 0.01, {}, { side: 'sell' }), {}, 'LONG_ONLY'],
    ['exit that buys', intent('exit', { pair: 'BTC/USD', side: 'buy', amount: 0.01 }), {}, 'LONG_ONLY'],
    ['stop-move that buys', intent('stop-move', { pair: 'BTC/USD', side: 'buy', type: 'stop-loss', price: 45_000, amount: 0.01 }), {}, 'LONG_ONLY'],
    ['entry on cancel_only', entry('CANCEL/USD', 10), {}, 'MARKET_NOT_TRADABLE'],
    ['entry on limit_only', entry('LIMIT/USD', 10, {}, { type: 'limit', price: 10 }), {}, 'MARKET_NOT_TRADABLE'],
    ['exit on cancel_only', intent('exit', { pair: 'CANCEL/USD', amount: 10 }), { balances: { CANCEL: { total: 10, hold: 0, free: 10 } } }, 'MARKET_NOT_TRADABLE'],
    ['market exit on limit_only', intent('exit', { pair: 'LIMIT/USD', amount: 10 }), { balances: { LIMIT: { total: 10, hold: 0, free: 10 } } }, 'MARKET_NOT_TRADABLE'],
    ['entry while HALTED', entry('ETH/USD', 1), { tradingState: 'HALTED' }, 'DAILY_DRAWDOWN_HALT'],
    ['entry while REDUCING', entry('ETH/USD', 1), { tradingState: 'REDUCING' }, 'REDUCING_EXITS_ONLY'],
    ['hedge buy while REDUCING', intent('hedge', { pair: 'ETH/USD', side: 'buy', amount: 1 }), { tradingState: 'REDUCING' }, 'REDUCING_EXITS_ONLY'],
    ['market buy without a mark', entry('ETH/USD', 1), { prices: {} }, 'NO_PRICE'],
    ['entry without stop', entry('ETH/USD', 1, {}, { close: undefined }), {}, 'NO_STOP_LOSS'],
    ['entry with take-profit instead of stop', entry('ETH/USD', 1, {}, { close: { type: 'take-profit', price: 2_700 } }), {}, 'NO_STOP_LOSS'],
    ['stop above entry', entry('ETH/USD', 1, {}, { close: { type: 'stop-loss', price: 2_600 } }), {}, 'NO_STOP_LOSS'],
    ['stop further than maxSlPct', entry('ETH/USD', 1, {}, { close: { type: 'stop-loss', price: 1_500 } }), {}, 'NO_STOP_LOSS'],
    // 2×0.26 % + 2×0.05 % + 0.1 % = 0.72 %
    ['edge under round-trip costs', entry('ETH/USD', 1, { expectedEdge: 0.007 }), {}, 'EDGE_BELOW_COSTS'],
    ['edge under costs with custom slippage', entry('BTC/USD', 0.01, { expectedEdge: 0.0081 }), { slippage: { 'BTC/USD': 0.001 } }, 'EDGE_BELOW_COSTS'],
    ['below ordermin', entry('ETH/USD', 0.001), {}, 'BELOW_EXCHANGE_MINIMUM'],
    ['below costmin', entry('BTC/USD', 0.000009), { markets: { ...MARKETS, 'BTC/USD': { ...MARKETS['BTC/USD']!, minAmount: 0 } } }, 'BELOW_EXCHANGE_MINIMUM'],
    ['dust exit', intent('exit', { pair: 'ETH/USD', amount: 0.001 }), { balances: { ETH: { total: 0.001, hold: 0, free: 0.001 } } }, 'BELOW_EXCHANGE_MINIMUM'],
    ['sell with nothing held', intent('exit', { pair: 'ETH/USD', amount: 1 }), {}, 'EXCEEDS_FREE_BALANCE'],
    // Pair cap 25k: BTC already 10k, 0.4 BTC = 20k more.
    ['pair cap, no reduce', entry('BTC/USD', 0.4), { settings: settings({ reduceToFit: false }) }, 'EXCEEDS_PAIR_EXPOSURE'],
    ['pair already at cap', entry('BTC/USD', 0.01), { positions: { 'BTC/USD': { qty: 0.5, avgPrice: 50_000, markPrice: 50_000 } } }, 'EXCEEDS_PAIR_EXPOSURE'],
    // Group cap 50k: BTC 10k + ETH 38k; 2 ETH = 5k → 53k.
    ['group cap, no reduce', entry('ETH/USD', 2), { settings: settings({ reduceToFit: false, maxPairExposure: 0.45 }), positions: { 'BTC/USD': { qty: 0.2, avgPrice: 50_000, markPrice: 50_000 }, 'ETH/USD': { qty: 15.2, avgPrice: 2_500, markPrice: 2_500 } } }, 'EXCEEDS_CORRELATED_EXPOSURE'],
    ['free USD, no reduce', entry('SOL/USD', 100), { settings: settings({ reduceToFit: false }), balances: { USD: { total: 5_000, hold: 0, free: 5_000 } } }, 'EXCEEDS_FREE_BALANCE'],
    ['free USD too small even reduced', entry('SOL/USD', 100), { balances: { USD: { total: 1, hold: 0, free: 1 } } }, 'EXCEEDS_FREE_BALANCE'],
    ['hedge reserve leaves no room', entry('SOL/USD', 10), { reservedUsd: 50_000 }, 'EXCEEDS_FREE_BALANCE'],
    ['stop-move above the mark', intent('stop-move', { pair: 'BTC/USD', type: 'stop-loss', price: 51_000, amount: 0.2 }), {}, 'INVALID_ORDER'],
  ];
  it.each(refusals)('%s', (_name, i, over, code) => {
    const v = checkOrder(i, ctx(over));
    expect(v).toMatchObject({ ok: false, code });
    if (!v.ok) expect(v.detail.length).toBeGreaterThan(0);
  });
});

describe('checkOrder approvals', () => {
  it.each([
    ['plain entry', entry('SOL/USD', 10), {}, 10],
    ['entry amount floored to lot decimals', entry('SOL/USD', 10.1234567), {}, 10.123456],
    ['exit while HALTED', intent('exit', { pair: 'BTC/USD', amount: 0.1 }), { tradingState: 'HALTED' as const }, 0.1],
    ['exit while REDUCING', intent('exit', { pair: 'BTC/USD', amount: 0.1 }), { tradingState: 'REDUCING' as const }, 0.1],
    ['hedge sell while HALTED', intent('hedge', { pair: 'BTC/USD', amount: 0.1 }), { tradingState: 'HALTED' as const }, 0.1],
    ['stablecoin hedge buy while HALTED, no exposure cap', intent('hedge', { pair: 'USDC/USD', side: 'buy', amount: 40_000 }), { tradingState: 'HALTED' as const }, 40_000],
    ['stop-move may use the held base', intent('stop-move', { pair: 'BTC/USD', type: 'stop-loss', price: 48_000, amount: 0.2 }), {}, 0.2],
    ['limit exit on limit_only', intent('exit', { pair: 'LIMIT/USD', type: 'limit', price: 10, amount: 10 }), { balances: { LIMIT: { total: 10, hold: 0, free: 10 } } }, 10],
    ['hedge buy uses the hedge reserve', intent('hedge', { pair: 'SOL/USD', side: 'buy', amount: 10 }), { reservedUsd: 50_000 }, 10],
  ])('%s', (_name, i, over, amount) => {
    const v = checkOrder(i, ctx(over));
    expect(v).toMatchObject({ ok: true, order: { amount } });
    expect(v).not.toHaveProperty('adjusted');
  });

  it.each([
    // 25k cap − 10k held = 15k → 0.3 BTC
    ['reduced to the pair cap', entry('BTC/USD', 0.4), {}, 0.3, 'EXCEEDS_PAIR_EXPOSURE'],
    // 50k group − 10k BTC − 35k ETH = 5k → 2 ETH; pair cap 25k would allow 10k ETH… but ETH already 35k > 25k
    ['reduced to the group cap', entry('ETH/USD', 3), { settings: settings({ maxPairExposure: 0.45 }), positions: { 'BTC/USD': { qty: 0.2, avgPrice: 50_000, markPrice: 50_000 }, 'ETH/USD': { qty: 14, avgPrice: 2_500, markPrice: 2_500 } } }, 2, 'EXCEEDS_CORRELATED_EXPOSURE'],
    // 1000 USD free at 100 × 1.0031 → 9.9690958 SOL, floored to 6 decimals
    ['reduced to the free balance', entry('SOL/USD', 20), { balances: { USD: { total: 1_000, hold: 0, free: 1_000 } } }, 9.969095, 'EXCEEDS_FREE_BALANCE'],
    // Free USD equal to the bare notional is not enough: fee and slippage must fit too.
    ['fees and slippage count against the free balance', entry('SOL/USD', 10), { balances: { USD: { total: 1_000, hold: 0, free: 1_000 } } }, 9.969095, 'EXCEEDS_FREE_BALANCE'],
    ['exit reduced to the free base', intent('exit', { pair: 'BTC/USD', amount: 0.2 }), {}, 0.15, 'available'],
  ])('%s', (_name, i, over, amount, why) => {
    const v = checkOrder(i, ctx(over));
    expect(v).toMatchObject({ ok: true, order: { amount } });
    if (v.ok) expect(v.adjusted).toContain(why);
  });

  it('rounds prices to the pair precision: buy limits down, sell limits up, stops to nearest', () => {
    const buy = checkOrder(entry('ETH/USD', 1, {}, { type: 'limit', price: 2_500.129, close: { type: 'stop-loss', price: 2_425.456 } }), ctx());
    expect(buy).toMatchObject({ ok: true, order: { price: 2_500.12, close: { price: 2_425.46 } } });
    const sell = checkOrder(intent('exit', { pair: 'BTC/USD', type: 'limit', price: 50_000.01, amount: 0.1 }), ctx());
    expect(sell).toMatchObject({ ok: true, order: { price: 50_000.1 } });
  });

  it('keeps the order identity and does not mutate the intent', () => {
    const i = entry('SOL/USD', 10.1234567);
    const v = checkOrder(i, ctx());
    expect(i.order.amount).toBe(10.1234567);
    expect(v.ok && v.order.clientId).toBe(i.order.clientId);
  });

  it('reserveApproved makes consecutive approvals share the free balance', () => {
    let c = ctx({ balances: { USD: { total: 2_000, hold: 0, free: 2_000 } } });
    const a = checkOrder(entry('SOL/USD', 15), c);
    expect(a).toMatchObject({ ok: true, order: { amount: 15 } });
    if (!a.ok) return;
    c = reserveApproved(c, a.order);
    expect(c.balances['USD']!.free).toBeCloseTo(2_000 - buyCost(15, 100, 0.0026, 0.0005), 9);
    const b = checkOrder(entry('SOL/USD', 15), c);
    expect(b.ok && b.order.amount).toBeLessThan(5);
  });
});

describe('exposure counts resting buy orders (R-3)', () => {
  // Pair cap 25k, group cap 50k (BTC and ETH one group); the fixture holds 10k of BTC.
  const noReduce = settings({ reduceToFit: false });
  it.each([
    // held 10k + resting 15k = the whole 25k pair cap: nothing more
    ['resting buys fill the pair cap', entry('BTC/USD', 0.01), { resting: { 'BTC/USD': 15_000 } }, 'EXCEEDS_PAIR_EXPOSURE'],
    // held 10k + resting 10k + 0.2 BTC (10k) = 30k > 25k
    ['held + resting + new over the pair cap', entry('BTC/USD', 0.2), { settings: noReduce, resting: { 'BTC/USD': 10_000 } }, 'EXCEEDS_PAIR_EXPOSURE'],
    // BTC 10k held + ETH 24k resting + 8 ETH (20k) = 54k > 50k, while ETH alone (44k) fits a 45 % pair cap
    ['a resting buy on a correlated pair counts for the group', entry('ETH/USD', 8), { settings: settings({ reduceToFit: false, maxPairExposure: 0.45 }), resting: { 'ETH/USD': 24_000 } }, 'EXCEEDS_CORRELATED_EXPOSURE'],
    ['resting buys alone (nothing held) fill the pair cap', entry('SOL/USD', 10), { resting: { 'SOL/USD': 25_000 } }, 'EXCEEDS_PAIR_EXPOSURE'],
  ] as Case[])('%s', (_name, i, over, code) => {
    expect(checkOrder(i, ctx(over))).toMatchObject({ ok: false, code });
  });

  it.each([
    // 25k − 10k held − 5k resting = 10k → 0.2 BTC
    ['reduced to what held + resting leave', entry('BTC/USD', 0.4), { resting: { 'BTC/USD': 5_000 } }, 0.2],
    // resting on an uncorrelated pair takes no room from BTC
    ['a resting buy in another group takes no room', entry('BTC/USD', 0.3), { resting: { 'SOL/USD': 20_000 } }, 0.3],
    // a resting stablecoin buy (the hedge) is cash, not exposure
    ['a resting stablecoin buy is not exposure', entry('BTC/USD', 0.3), { resting: { 'USDC/USD': 50_000 }, groupOf: { 'BTC/USD': 0, 'ETH/USD': 0, 'USDC/USD': 0 } }, 0.3],
  ] as Array<[string, OrderIntent, Partial<RiskContext>, number]>)('%s', (_name, i, over, amount) => {
    expect(checkOrder(i, ctx(over))).toMatchObject({ ok: true, order: { amount } });
  });

  it('an approved limit buy reserves exposure as resting for later checks in the same cycle; a market buy as position', () => {
    let c = ctx();
    const limit = checkOrder(entry('BTC/USD', 0.2, {}, { type: 'limit', price: 49_000 }), c);
    expect(limit).toMatchObject({ ok: true, order: { amount: 0.2 } });
    if (!limit.ok) return;
    c = reserveApproved(c, limit.order);
    expect(c.resting['BTC/USD']).toBeCloseTo(0.2 * 50_000, 9); // valued at the mark, above its limit
    expect(c.positions['BTC/USD']!.qty).toBe(0.2); // not a position until it fills
    // 25k − 10k held − 10k resting = 5k → 0.1 BTC of a second entry
    expect(checkOrder(entry('BTC/USD', 0.4), c)).toMatchObject({ ok: true, order: { amount: 0.1 }, adjusted: expect.stringContaining('EXCEEDS_PAIR_EXPOSURE') });
    const market = checkOrder(entry('SOL/USD', 10), c);
    if (!market.ok) throw new Error(market.detail);
    const after = reserveApproved(c, market.order);
    expect(after.positions['SOL/USD']).toMatchObject({ qty: 10 });
    expect(after.resting['SOL/USD']).toBeUndefined();
  });
});
