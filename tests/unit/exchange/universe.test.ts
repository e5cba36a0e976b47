import { describe, expect, it } from 'vitest';
import type { MarketSpec } from '../../../lib/exchange/types.ts';
import {
  acceptsEntries,
  acceptsExits,
  assertUsdSpot,
  isUsdSpot,
  marketsFromAssetPairs,
  NotUsdSpotError,
  parseAssetPairs,
  unifiedAsset,
} from '../../../lib/exchange/universe.ts';

const tiers = (first: number) => [[0, first], [50000, first - 0.02]];
const pair = (o: Record<string, unknown>) => ({
  aclass_base: 'currency', aclass_quote: 'currency', lot: 'unit', pair_decimals: 2, lot_decimals: 8, lot_multiplier: 1,
  fees: tiers(0.26), fees_maker: tiers(0.16), fee_volume_currency: 'ZUSD', ordermin: '0.01', costmin: '0.5', status: 'online',
  leverage_buy: [], leverage_sell: [], margin_call: 80, margin_stop: 40, tick_size: '0.01', cost_decimals: 5,
  ...o,
});

// Shaped like Kraken's AssetPairs result, including pairs Aether must not trade.
const RESULT = {
  XXBTZUSD: pair({ altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD', pair_decimals: 1, ordermin: '0.00005' }),
  XETHZUSD: pair({ altname: 'ETHUSD', wsname: 'ETH/USD', base: 'XETH', quote: 'ZUSD', ordermin: '0.002' }),
  XETHXXBT: pair({ altname: 'ETHXBT', wsname: 'ETH/XBT', base: 'XETH', quote: 'XXBT', pair_decimals: 5 }),
  XXBTZEUR: pair({ altname: 'XBTEUR', wsname: 'XBT/EUR', base: 'XXBT', quote: 'ZEUR', pair_decimals: 1 }),
  XXDGZUSD: pair({ altname: 'XDGUSD', wsname: 'XDG/USD', base: 'XXDG', quote: 'ZUSD', pair_decimals: 7, ordermin: '13' }),
  USDCUSD: pair({ altname: 'USDCUSD', wsname: 'USDC/USD', base: 'USDC', quote: 'ZUSD', pair_decimals: 4, fees: [[0, 0.2]], fees_maker: [[0, 0.2]], ordermin: '5' }),
  PYUSDUSD: pair({ altname: 'PYUSDUSD', wsname: 'PYUSD/USD', base: 'PYUSD', quote: 'ZUSD', pair_decimals: 4, ordermin: '5' }),
  USDCUSDT: pair({ altname: 'USDCUSDT', wsname: 'USDC/USDT', base: 'USDC', quote: 'USDT', pair_decimals: 4 }),
  LUNAUSD: pair({ altname: 'LUNAUSD', wsname: 'LUNA/USD', base: 'LUNA', quote: 'ZUSD', status: 'cancel_only' }),
  'XXBTZUSD.d': pair({ altname: 'XBTUSD.d', base: 'XXBT', quote: 'ZUSD', pair_decimals: 1 }),
  AAPLxUSD: pair({ altname: 'AAPLxUSD', wsname: 'AAPLx/USD', base: 'AAPLx', aclass_base: 'tokenized_asset', quote: 'ZUSD' }),
  SOLUSD: pair({ altname: 'SOLUSD', wsname: 'SOL/USD', base: 'SOL', quote: 'ZUSD', fees_maker: undefined, ordermin: '0.02' }),
};

describe('unifiedAsset', () => {
  it.each([
    ['XXBT', 'BTC'], ['XBT', 'BTC'], ['XETH', 'ETH'], ['XXRP', 'XRP'], ['XXDG', 'DOGE'], ['XLTC', 'LTC'],
    ['ZUSD', 'USD'], ['ZEUR', 'EUR'], ['SOL', 'SOL'], ['USDC', 'USDC'], ['XTZ', 'XTZ'],
  ])('%s → %s', (k, want) => {
    expect(unifiedAsset(k)).toBe(want);
  });
});

describe('marketsFromAssetPairs', () => {
  const markets = marketsFromAssetPairs(RESULT);
  const bySymbol = new Map(markets.map((m) => [m.symbol, m]));

  it('keeps exactly the USD spot pairs', () => {
    expect(markets.map((m) => m.symbol)).toEqual(['BTC/USD', 'DOGE/USD', 'ETH/USD', 'LUNA/USD', 'PYUSD/USD', 'SOL/USD', 'USDC/USD']);
  });

  it('maps a legacy-coded pair completely', () => {
    expect(bySymbol.get('BTC/USD')).toEqual({
      symbol: 'BTC/USD', base: 'BTC', quote: 'USD', krakenPair: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD',
      pricePrecision: 1, amountPrecision: 8, minAmount: 0.00005, minCost: 0.5, status: 'online',
      takerFee: 0.0026, makerFee: 0.0016, stablecoin: false,
    } satisfies MarketSpec);
  });

  it.each([
    ['USDC/USD', true, 0.002, 0.002],
    ['PYUSD/USD', true, 0.0026, 0.0016],
    ['ETH/USD', false, 0.0026, 0.0016],
    ['SOL/USD', false, 0.0026, 0.0026], // no maker schedule: the taker rate applies
  ])('%s: stablecoin %s, taker %d, maker %d', (symbol, stable, taker, maker) => {
    const m = bySymbol.get(symbol);
    expect(m?.stablecoin).toBe(stable);
    expect(m?.takerFee).toBe(taker);
    expect(m?.makerFee).toBe(maker);
  });

  it('keeps a cancel_only pair, flagged as not open for entries or exits', () => {
    const luna = bySymbol.get('LUNA/USD') as MarketSpec;
    expect(luna.status).toBe('cancel_only');
    expect(acceptsEntries(luna)).toBe(false);
    expect(acceptsExits(luna)).toBe(false);
  });

  it('uses the cheapest-volume tier whatever order Kraken lists tiers in', () => {
    const [m] = marketsFromAssetPairs({ XXBTZUSD: pair({ altname: 'XBTUSD', wsname: 'XBT/USD', base: 'XXBT', quote: 'ZUSD', fees: [[50000, 0.24], [0, 0.4]] }) });
    expect(m?.takerFee).toBe(0.004);
  });

  it.each([
    ['a missing ordermin', { XXBTZUSD: pair({ altname: 'XBTUSD', base: 'XXBT', quote: 'ZUSD', ordermin: undefined }) }],
    ['a numeric ordermin', { XXBTZUSD: pair({ altname: 'XBTUSD', base: 'XXBT', quote: 'ZUSD', ordermin: 0.1 }) }],
    ['an unknown status', { XXBTZUSD: pair({ altname: 'XBTUSD', base: 'XXBT', quote: 'ZUSD', status: 'halted' }) }],
    ['empty fee tiers', { XXBTZUSD: pair({ altname: 'XBTUSD', base: 'XXBT', quote: 'ZUSD', fees: [] }) }],
    ['not an object', [1, 2, 3]],
  ])('rejects %s', (_label, bad) => {
    expect(() => marketsFromAssetPairs(bad)).toThrow();
  });

  it('parseAssetPairs keeps every pair and marks spot-ness', () => {
    const all = parseAssetPairs(RESULT);
    expect(all).toHaveLength(Object.keys(RESULT).length);
    expect(all.find((m) => m.krakenPair === 'AAPLxUSD')?.spot).toBe(false);
    expect(all.find((m) => m.krakenPair === 'XETHXXBT')?.symbol).toBe('ETH/BTC');
  });
});

describe('isUsdSpot / assertUsdSpot', () => {
  const markets = marketsFromAssetPairs(RESULT);
  const all = parseAssetPairs(RESULT);

  it.each([
    ['XXBTZUSD', true], ['XETHXXBT', false], ['XXBTZEUR', false], ['USDCUSDT', false], ['XXBTZUSD.d', false], ['USDCUSD', true],
  ])('%s → %s', (key, want) => {
    expect(isUsdSpot(all.find((m) => m.krakenPair === key) as MarketSpec)).toBe(want);
  });

  it('returns the spec of a USD spot pair', () => {
    expect(assertUsdSpot('ETH/USD', markets).krakenPair).toBe('XETHZUSD');
  });

  it.each([['ETH/BTC'], ['BTC/EUR'], ['NOPE/USD']])('refuses %s with NOT_SPOT_USD', (symbol) => {
    let err: unknown;
    try {
      assertUsdSpot(symbol, all);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NotUsdSpotError);
    expect((err as NotUsdSpotError).code).toBe('NOT_SPOT_USD');
  });

  it.each([
    ['online', true, true], ['post_only', true, true], ['limit_only', true, true], ['reduce_only', false, true], ['cancel_only', false, false],
  ] as const)('status %s: entries %s, exits %s', (status, entries, exits) => {
    expect(acceptsEntries({ status })).toBe(entries);
    expect(acceptsExits({ status })).toBe(exits);
  });
});
