import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MARGIN_PARAMS, MarketIndex, amendReached, parseTradeVolume, prepareAddOrder, prepareAmendOrder, withFeeTier, type AmendTarget } from '../../../lib/exchange/kraken-markets.ts';
import type { MarketSpec, OrderRequest } from '../../../lib/exchange/types.ts';

const spec = (over: Partial<MarketSpec> = {}): MarketSpec => ({
  symbol: 'BTC/USD', base: 'BTC', quote: 'USD', krakenPair: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD',
  pricePrecision: 1, amountPrecision: 8, minAmount: 0.00005, minCost: 0.5, status: 'online', takerFee: 0.0026, makerFee: 0.0016, stablecoin: false,
  ...over,
});
const CID = '0b7e6a1c-2f1d-4a8e-9c3b-5d6e7f8a9b0c';
const req = (over: Partial<OrderRequest> = {}): OrderRequest => ({ clientId: CID, pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 0.01, price: 30_000, ...over });

describe('prepareAddOrder: refusals', () => {
  it.each([
    ['cancel_only market', spec({ status: 'cancel_only' }), req(), 'MARKET_NOT_TRADABLE'],
    ['reduce_only market', spec({ status: 'reduce_only' }), req({ side: 'sell' }), 'MARKET_NOT_TRADABLE'],
    ['post_only market without postOnly', spec({ status: 'post_only' }), req(), 'MARKET_NOT_TRADABLE'],
    ['limit_only market, market order', spec({ status: 'limit_only' }), req({ type: 'market', price: undefined }), 'MARKET_NOT_TRADABLE'],
    ['bad cl_ord_id', spec(), req({ clientId: 'this id is far too long for kraken' }), 'INVALID_ORDER'],
    ['reduce-only buy', spec(), req({ reduceOnly: true }), 'INVALID_ORDER'],
    ['postOnly market', spec(), req({ type: 'market', price: undefined, postOnly: true }), 'INVALID_ORDER'],
    ['zero amount', spec(), req({ amount: 0 }), 'INVALID_ORDER'],
    ['NaN amount', spec(), req({ amount: Number.NaN }), 'INVALID_ORDER'],
    ['limit without price', spec(), req({ price: undefined }), 'INVALID_ORDER'],
    ['market with price', spec(), req({ type: 'market' }), 'INVALID_ORDER'],
    ['stop-loss-limit without price2', spec(), req({ type: 'stop-loss-limit' }), 'INVALID_ORDER'],
    ['below ordermin', spec(), req({ amount: 0.00004 }), 'BELOW_EXCHANGE_MINIMUM'],
    ['below costmin', spec({ minCost: 500 }), req({ amount: 0.01, price: 30_000 }), 'BELOW_EXCHANGE_MINIMUM'],
    ['market below ordermin', spec(), req({ type: 'market', price: undefined, amount: 0.00001 }), 'BELOW_EXCHANGE_MINIMUM'],
    ['amount rounding to zero', spec(), req({ amount: 1e-9 }), 'BELOW_EXCHANGE_MINIMUM'],
    ['close limit without price2', spec(), req({ close: { type: 'take-profit-limit', price: 40_000 } }), 'INVALID_ORDER'],
  ])('%s → %s', (_n, m, r, code) => {
    expect(prepareAddOrder(r, m)).toMatchObject({ ok: false, code });
  });
});

describe('prepareAddOrder: parameters', () => {
  it.each([
    ['buy limit rounds the price down', req({ price: 30_000.09 }), { price: '30000.0', volume: '0.01000000' }],
    ['sell limit rounds the price up', req({ side: 'sell', price: 30_000.01 }), { price: '30000.1' }],
    ['amount truncates to lot decimals', req({ amount: 0.0123456789 }), { volume: '0.01234567' }],
    ['stop trigger to the nearest tick', req({ type: 'stop-loss', price: 29_999.96 }), { price: '30000.0', ordertype: 'stop-loss' }],
    ['stop-loss-limit rounds price2 by side', req({ side: 'sell', type: 'stop-loss-limit', price: 29_000.04, price2: 28_900.01 }), { price: '29000.0', price2: '28900.1' }],
    ['close price is rounded', req({ close: { type: 'stop-loss', price: 28_000.06 } }), { 'close[ordertype]': 'stop-loss', 'close[price]': '28000.1' }],
    ['close limit price2 rounds against the close side', req({ close: { type: 'stop-loss-limit', price: 28_000.04, price2: 27_900.06 } }), { 'close[price]': '28000.0', 'close[price2]': '27900.1' }],
    ['postOnly sets oflags=post (fees in the quote too)', req({ postOnly: true }), { oflags: 'post,fciq' }],
    ['a sell asks for fees in the quote (Kraken would default to the base)', req({ side: 'sell' }), { oflags: 'fciq' }],
    ['a buy asks for fees in the quote explicitly', req(), { oflags: 'fciq' }],
    ['market order sends no price', req({ type: 'market', price: undefined }), { ordertype: 'market', pair: 'XXBTZUSD', cl_ord_id: CID }],
  ])('%s', (_n, r, expected) => {
    const p = prepareAddOrder(r, spec());
    if (!p.ok) throw new Error(p.reason);
    expect(p.params).toMatchObject(expected);
    if (r.type === 'market') expect(p.params.price).toBeUndefined();
  });

  it('never produces margin parameters and never sends more than asked, at no more than the pair precision', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        fc.double({ min: 0.0001, max: 1000, noNaN: true }),
        fc.double({ min: 1, max: 100_000, noNaN: true }),
        fc.constantFrom('buy' as const, 'sell' as const),
        fc.boolean(),
        (pd, ld, amount, price, side, reduceOnly) => {
          const m = spec({ pricePrecision: pd, amountPrecision: ld, minAmount: 0, minCost: 0 });
          const p = prepareAddOrder(req({ amount, price, side, reduceOnly: reduceOnly && side === 'sell' }), m);
          if (!p.ok) return p.code === 'BELOW_EXCHANGE_MINIMUM';
          const decimals = (s: string) => (s.split('.')[1] ?? '').length;
          // precision.ts snaps values within a few ULPs of a step to it (representation artefacts).
          const ulps = (x: number) => Math.abs(x) * 1e-14;
          return (
            MARGIN_PARAMS.every((k) => !(k in p.params)) &&
            p.amount <= amount + ulps(amount) &&
            decimals(p.params.volume!) <= ld &&
            decimals(p.params.price!) <= pd &&
            (side === 'buy' ? p.price! <= price + ulps(price) : p.price! >= price - ulps(price))
          );
        },
      ),
    );
  });
});

describe('fee tier', () => {
  const tv = { currency: 'ZUSD', volume: '120000.0000', fees: { XXBTZUSD: { fee: '0.2200' } }, fees_maker: { XXBTZUSD: { fee: '0.1200' } } };
  it('TradeVolume percentages become fractions applied to the pair', () => {
    const tier = parseTradeVolume(tv, 5);
    expect(tier).toEqual({ volume30dUsd: 120_000, taker: { XXBTZUSD: 0.0022 }, maker: { XXBTZUSD: 0.0012 }, fetchedAt: 5 });
    expect(withFeeTier(spec(), tier)).toMatchObject({ takerFee: 0.0022, makerFee: 0.0012 });
    expect(withFeeTier(spec({ krakenPair: 'SOLUSD' }), tier)).toMatchObject({ takerFee: 0.0026, makerFee: 0.0016 });
  });
  it('refuses a malformed TradeVolume result', () => {
    expect(() => parseTradeVolume({ volume: 1 }, 0)).toThrow();
  });
});

describe('MarketIndex', () => {
  it('finds a market by key, altname or wsname; tradable means online', () => {
    const idx = new MarketIndex([spec(), spec({ symbol: 'LTC/USD', base: 'LTC', krakenPair: 'XLTCZUSD', altname: 'LTCUSD', wsname: 'LTC/USD', status: 'cancel_only' })]);
    expect(idx.byKraken('xbtusd')?.symbol).toBe('BTC/USD');
    expect(idx.byKraken('XXBTZUSD')?.symbol).toBe('BTC/USD');
    expect(idx.byKraken('XBT/USD')?.symbol).toBe('BTC/USD');
    expect(idx.tradable().map((m) => m.symbol)).toEqual(['BTC/USD']);
  });
});

describe('prepareAmendOrder', () => {
  const resting = (over: Partial<AmendTarget> = {}): AmendTarget => ({ type: 'limit', side: 'buy', amount: 0.01, filled: 0, price: 30_000, price2: null, ...over });
  it.each([
    ['limit price, rounded in the owner\'s favour (buy: down)', resting(), { price: 29_500.09 }, { limit_price: '29500.0' }, { price: 29_500 }],
    ['limit price of a sell rounds up', resting({ side: 'sell' }), { price: 31_000.01 }, { limit_price: '31000.1' }, { price: 31_000.1 }],
    ['stop-loss: price is the trigger, to the nearest tick', resting({ type: 'stop-loss', side: 'sell', price: 28_000 }), { price: 28_500.06 }, { trigger_price: '28500.1' }, { price: 28_500.1 }],
    ['take-profit: price is the trigger', resting({ type: 'take-profit', side: 'sell', price: 40_000 }), { price: 41_000 }, { trigger_price: '41000.0' }, { price: 41_000 }],
    ['stop-loss-limit: price → trigger, price2 → limit', resting({ type: 'stop-loss-limit', side: 'sell', price: 28_000, price2: 27_900 }), { price: 28_200, price2: 28_100.01 }, { trigger_price: '28200.0', limit_price: '28100.1' }, { price: 28_200, price2: 28_100.1 }],
    ['quantity truncated to the lot decimals', resting(), { amount: 0.0123456789 }, { order_qty: '0.01234567' }, { amount: 0.01234567 }],
  ])('%s', (_n, order, change, params, target) => {
    const p = prepareAmendOrder(order, change, spec());
    if (!p.ok) throw new Error(p.reason);
    expect(p.params).toEqual(params);
    expect(p.target).toMatchObject(target);
    expect(p.noop).toBe(false);
  });

  it.each([
    ['a market order', resting({ type: 'market', price: null }), { amount: 0.02 }, 'INVALID_ORDER'],
    ['nothing to change', resting(), {}, 'INVALID_ORDER'],
    ['price2 on a plain limit', resting(), { price2: 29_000 }, 'INVALID_ORDER'],
    ['quantity at or below what filled', resting({ filled: 0.005 }), { amount: 0.005 }, 'INVALID_ORDER'],
    ['quantity below ordermin', resting(), { amount: 0.00001 }, 'BELOW_EXCHANGE_MINIMUM'],
    ['cost below costmin at the new price', resting(), { price: 1 }, 'BELOW_EXCHANGE_MINIMUM'],
    ['negative price', resting(), { price: -1 }, 'INVALID_ORDER'],
  ])('refuses %s locally', (_n, order, change, code) => {
    expect(prepareAmendOrder(order, change, spec())).toMatchObject({ ok: false, code });
  });

  it('an amend to the values the order already has is a no-op; amendReached compares at the pair precision', () => {
    const p = prepareAmendOrder(resting(), { price: 30_000.04, amount: 0.01 }, spec());
    expect(p).toMatchObject({ ok: true, noop: true });
    expect(amendReached({ amount: 0.01, price: 30_000, price2: null }, { amount: 0.01, price: 30_000.1, price2: null }, spec())).toBe(false);
  });
});
