import type { MarketSpec } from './types.ts';
import { marketsFromAssetPairs } from './universe.ts';

/**
 * A recorded snapshot of Kraken's `GET /0/public/AssetPairs` result for the USD spot pairs Aether
 * trades, in Kraken's own shape (legacy XXBT/XETH/ZUSD codes, fees in percent by 30-day volume tier).
 * It is a SNAPSHOT: decimals, minimums and fee tiers change over time. It is what simulated
 * accounts and backtests trade on (and what tests use). It is never a stand-in for Kraken's current
 * listing: a live broker loads AssetPairs itself, and the settings API checks an account's pairs
 * against AssetPairs fetched from KRAKEN_API_URL (lib/market/kraken-rest.ts `KrakenUsdListing`),
 * refusing to decide when Kraken cannot be asked.
 * Stablecoin pairs have Kraken's separate stablecoin fee schedule (0.20 % taker and maker).
 */
export const KRAKEN_USD_ASSET_PAIRS_SNAPSHOT = {
  ADAUSD: {
    altname: 'ADAUSD', wsname: 'ADA/USD', aclass_base: 'currency', base: 'ADA', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 6, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '5', costmin: '0.5', tick_size: '0.000001', status: 'online',
  },
  AVAXUSD: {
    altname: 'AVAXUSD', wsname: 'AVAX/USD', aclass_base: 'currency', base: 'AVAX', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 2, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.1', costmin: '0.5', tick_size: '0.01', status: 'online',
  },
  DOTUSD: {
    altname: 'DOTUSD', wsname: 'DOT/USD', aclass_base: 'currency', base: 'DOT', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 4, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.6', costmin: '0.5', tick_size: '0.0001', status: 'online',
  },
  LINKUSD: {
    altname: 'LINKUSD', wsname: 'LINK/USD', aclass_base: 'currency', base: 'LINK', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 5, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.2', costmin: '0.5', tick_size: '0.00001', status: 'online',
  },
  SOLUSD: {
    altname: 'SOLUSD', wsname: 'SOL/USD', aclass_base: 'currency', base: 'SOL', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 2, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.02', costmin: '0.5', tick_size: '0.01', status: 'online',
  },
  USDCUSD: {
    altname: 'USDCUSD', wsname: 'USDC/USD', aclass_base: 'currency', base: 'USDC', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 4, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.2], [50000, 0.16], [100000, 0.12], [250000, 0.08], [500000, 0.04], [1000000, 0]],
    fees_maker: [[0, 0.2], [50000, 0.16], [100000, 0.12], [250000, 0.08], [500000, 0.04], [1000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '5', costmin: '5', tick_size: '0.0001', status: 'online',
  },
  USDTZUSD: {
    altname: 'USDTUSD', wsname: 'USDT/USD', aclass_base: 'currency', base: 'USDT', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 4, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.2], [50000, 0.16], [100000, 0.12], [250000, 0.08], [500000, 0.04], [1000000, 0]],
    fees_maker: [[0, 0.2], [50000, 0.16], [100000, 0.12], [250000, 0.08], [500000, 0.04], [1000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '5', costmin: '5', tick_size: '0.0001', status: 'online',
  },
  XETHZUSD: {
    altname: 'ETHUSD', wsname: 'ETH/USD', aclass_base: 'currency', base: 'XETH', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 2, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.002', costmin: '0.5', tick_size: '0.01', status: 'online',
  },
  XLTCZUSD: {
    altname: 'LTCUSD', wsname: 'LTC/USD', aclass_base: 'currency', base: 'XLTC', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 2, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.05', costmin: '0.5', tick_size: '0.01', status: 'online',
  },
  XXBTZUSD: {
    altname: 'XBTUSD', wsname: 'XBT/USD', aclass_base: 'currency', base: 'XXBT', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 1, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '0.00005', costmin: '0.5', tick_size: '0.1', status: 'online',
  },
  XXRPZUSD: {
    altname: 'XRPUSD', wsname: 'XRP/USD', aclass_base: 'currency', base: 'XXRP', aclass_quote: 'currency', quote: 'ZUSD',
    lot: 'unit', cost_decimals: 5, pair_decimals: 5, lot_decimals: 8, lot_multiplier: 1,
    fees: [[0, 0.26], [10000, 0.2], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]],
    fees_maker: [[0, 0.16], [10000, 0.1], [50000, 0.08], [100000, 0.06], [250000, 0.04], [500000, 0.02], [1000000, 0], [2500000, 0], [5000000, 0], [10000000, 0]],
    fee_volume_currency: 'ZUSD', ordermin: '2', costmin: '0.5', tick_size: '0.00001', status: 'online',
  },
} as const;

/** The snapshot parsed through the same path as the live AssetPairs reply. */
export const USD_MARKETS: readonly MarketSpec[] = Object.freeze(marketsFromAssetPairs(KRAKEN_USD_ASSET_PAIRS_SNAPSHOT));

/** The snapshot spec of a unified symbol ("BTC/USD"); throws for a pair outside the snapshot. */
export function usdMarket(symbol: string): MarketSpec {
  const spec = USD_MARKETS.find((m) => m.symbol === symbol);
  if (spec === undefined) throw new Error(`${symbol} is not in the USD market snapshot`);
  return spec;
}
