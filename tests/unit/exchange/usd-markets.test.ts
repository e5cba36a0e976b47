import { describe, expect, it } from 'vitest';
import { isUsdSpot } from '../../../lib/exchange/universe.ts';
import { USD_MARKETS, usdMarket } from '../../../lib/exchange/usd-markets.ts';

describe('USD market snapshot', () => {
  it('holds the USD spot pairs Aether trades, and only USD spot pairs', () => {
    expect(USD_MARKETS.map((m) => m.symbol)).toEqual([
      'ADA/USD', 'AVAX/USD', 'BTC/USD', 'DOT/USD', 'ETH/USD', 'LINK/USD', 'LTC/USD', 'SOL/USD', 'USDC/USD', 'USDT/USD', 'XRP/USD',
    ]);
    expect(USD_MARKETS.every(isUsdSpot)).toBe(true);
  });

  it.each([
    ['BTC/USD', 'XXBTZUSD', 1, 8, 0.00005, 0.5],
    ['ETH/USD', 'XETHZUSD', 2, 8, 0.002, 0.5],
    ['SOL/USD', 'SOLUSD', 2, 8, 0.02, 0.5],
    ['XRP/USD', 'XXRPZUSD', 5, 8, 2, 0.5],
    ['LTC/USD', 'XLTCZUSD', 2, 8, 0.05, 0.5],
    ['USDT/USD', 'USDTZUSD', 4, 8, 5, 5],
  ])('%s: %s, pair_decimals %d, lot_decimals %d, ordermin %d, costmin %d', (symbol, key, pd, ld, min, cost) => {
    const m = usdMarket(symbol);
    expect([m.krakenPair, m.pricePrecision, m.amountPrecision, m.minAmount, m.minCost]).toEqual([key, pd, ld, min, cost]);
    expect(m.status).toBe('online');
  });

  it('charges 0.26 % taker / 0.16 % maker on crypto pairs; flags stablecoins', () => {
    for (const m of USD_MARKETS.filter((x) => !x.stablecoin)) expect([m.takerFee, m.makerFee]).toEqual([0.0026, 0.0016]);
    expect(USD_MARKETS.filter((m) => m.stablecoin).map((m) => m.symbol)).toEqual(['USDC/USD', 'USDT/USD']);
  });

  it('refuses a pair outside the snapshot', () => {
    expect(() => usdMarket('ETH/BTC')).toThrow(/not in the USD market snapshot/);
  });
});
