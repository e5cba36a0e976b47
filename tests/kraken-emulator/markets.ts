/**
 * The emulated exchange's asset and pair tables, shaped like Kraken's Assets / AssetPairs replies
 * (names, decimals, minimums and fee tiers as Kraken publishes them for these pairs).
 */
import type { MarketStatus } from '../../lib/exchange/types.ts';

export interface AssetDef {
  id: string; // Kraken asset id, "XXBT"
  altname: string; // "XBT"
  code: string; // unified code, "BTC"
  decimals: number;
  displayDecimals: number;
}

export const ASSETS: AssetDef[] = [
  { id: 'XXBT', altname: 'XBT', code: 'BTC', decimals: 10, displayDecimals: 5 },
  { id: 'XETH', altname: 'ETH', code: 'ETH', decimals: 10, displayDecimals: 5 },
  { id: 'SOL', altname: 'SOL', code: 'SOL', decimals: 10, displayDecimals: 5 },
  { id: 'ADA', altname: 'ADA', code: 'ADA', decimals: 8, displayDecimals: 6 },
  { id: 'XXRP', altname: 'XRP', code: 'XRP', decimals: 8, displayDecimals: 5 },
  { id: 'XLTC', altname: 'LTC', code: 'LTC', decimals: 10, displayDecimals: 5 },
  { id: 'ZUSD', altname: 'USD', code: 'USD', decimals: 4, displayDecimals: 2 },
  { id: 'ZEUR', altname: 'EUR', code: 'EUR', decimals: 4, displayDecimals: 2 },
  { id: 'USDC', altname: 'USDC', code: 'USDC', decimals: 8, displayDecimals: 4 },
  { id: 'USDT', altname: 'USDT', code: 'USDT', decimals: 8, displayDecimals: 4 },
];

const ASSET_BY_ANY = new Map<string, AssetDef>();
for (const a of ASSETS) for (const name of [a.id, a.altname, a.code]) ASSET_BY_ANY.set(name.toUpperCase(), a);

/** Looks an asset up by Kraken id, altname or unified code ("XXBT", "XBT", "BTC"). */
export function findAsset(name: string): AssetDef | undefined {
  return ASSET_BY_ANY.get(name.toUpperCase());
}

export type FeeTiers = Array<[volumeUsd: number, percent: number]>;

// The API spec's example schedule (DESIGN.md §5: 0.26 % / 0.16 % at the lowest tier).
const STANDARD_TAKER: FeeTiers = [[0, 0.26], [50000, 0.24], [100000, 0.22], [250000, 0.2], [500000, 0.18], [1000000, 0.16], [2500000, 0.14], [5000000, 0.12], [10000000, 0.1]];
const STANDARD_MAKER: FeeTiers = [[0, 0.16], [50000, 0.14], [100000, 0.12], [250000, 0.1], [500000, 0.08], [1000000, 0.06], [2500000, 0.04], [5000000, 0.02], [10000000, 0]];
// Kraken's stablecoin / FX schedule is flatter and the same for maker and taker.
const STABLE_FEES: FeeTiers = [[0, 0.2], [50000, 0.16], [100000, 0.12], [250000, 0.08], [500000, 0.04], [1000000, 0]];

/** Where a pair's replayed prices come from when no candles are given for its symbol. */
export type PriceSource =
  | { kind: 'candles' } // candles under the pair's unified symbol
  | { kind: 'ratio'; num: string; den: string } // num/USD divided by den/USD
  | { kind: 'fx'; of: string; usdPerUnit: number } // a USD series expressed in another fiat
  | { kind: 'flat'; price: number; band: number } // stablecoin: a price with a tiny high/low band
  | { kind: 'scaled'; ref: number }; // the primary series scaled to a reference price (a proxy path)

export interface PairDef {
  key: string; // "XXBTZUSD"
  altname: string; // "XBTUSD"
  wsname: string; // "XBT/USD"
  symbol: string; // unified, as ccxt names it: "BTC/USD"
  base: string; // Kraken asset id
  quote: string;
  pairDecimals: number;
  lotDecimals: number;
  costDecimals: number;
  ordermin: string;
  costmin: string;
  status: MarketStatus;
  leverageBuy: number[];
  fees: FeeTiers;
  feesMaker: FeeTiers;
  source: PriceSource;
}

export const EUR_USD = 1.08;

export const PAIRS: PairDef[] = [
  { key: 'XXBTZUSD', altname: 'XBTUSD', wsname: 'XBT/USD', symbol: 'BTC/USD', base: 'XXBT', quote: 'ZUSD', pairDecimals: 1, lotDecimals: 8, costDecimals: 5, ordermin: '0.00005', costmin: '0.5', status: 'online', leverageBuy: [2, 3, 4, 5], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'candles' } },
  { key: 'XETHZUSD', altname: 'ETHUSD', wsname: 'ETH/USD', symbol: 'ETH/USD', base: 'XETH', quote: 'ZUSD', pairDecimals: 2, lotDecimals: 8, costDecimals: 5, ordermin: '0.002', costmin: '0.5', status: 'online', leverageBuy: [2, 3, 4, 5], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'candles' } },
  { key: 'SOLUSD', altname: 'SOLUSD', wsname: 'SOL/USD', symbol: 'SOL/USD', base: 'SOL', quote: 'ZUSD', pairDecimals: 2, lotDecimals: 8, costDecimals: 5, ordermin: '0.02', costmin: '0.5', status: 'online', leverageBuy: [2, 3], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'candles' } },
  { key: 'ADAUSD', altname: 'ADAUSD', wsname: 'ADA/USD', symbol: 'ADA/USD', base: 'ADA', quote: 'ZUSD', pairDecimals: 6, lotDecimals: 8, costDecimals: 6, ordermin: '5', costmin: '0.5', status: 'online', leverageBuy: [2, 3], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'scaled', ref: 0.45 } },
  { key: 'XXRPZUSD', altname: 'XRPUSD', wsname: 'XRP/USD', symbol: 'XRP/USD', base: 'XXRP', quote: 'ZUSD', pairDecimals: 5, lotDecimals: 8, costDecimals: 6, ordermin: '2', costmin: '0.5', status: 'online', leverageBuy: [2, 3, 4, 5], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'scaled', ref: 0.55 } },
  { key: 'XLTCZUSD', altname: 'LTCUSD', wsname: 'LTC/USD', symbol: 'LTC/USD', base: 'XLTC', quote: 'ZUSD', pairDecimals: 2, lotDecimals: 8, costDecimals: 5, ordermin: '0.05', costmin: '0.5', status: 'cancel_only', leverageBuy: [2, 3], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'scaled', ref: 80 } },
  { key: 'USDCUSD', altname: 'USDCUSD', wsname: 'USDC/USD', symbol: 'USDC/USD', base: 'USDC', quote: 'ZUSD', pairDecimals: 4, lotDecimals: 8, costDecimals: 4, ordermin: '5', costmin: '0.5', status: 'online', leverageBuy: [], fees: STABLE_FEES, feesMaker: STABLE_FEES, source: { kind: 'flat', price: 1, band: 0.0001 } },
  { key: 'USDTZUSD', altname: 'USDTUSD', wsname: 'USDT/USD', symbol: 'USDT/USD', base: 'USDT', quote: 'ZUSD', pairDecimals: 4, lotDecimals: 8, costDecimals: 4, ordermin: '5', costmin: '0.5', status: 'online', leverageBuy: [], fees: STABLE_FEES, feesMaker: STABLE_FEES, source: { kind: 'flat', price: 0.9997, band: 0.0002 } },
  { key: 'XETHXXBT', altname: 'ETHXBT', wsname: 'ETH/XBT', symbol: 'ETH/BTC', base: 'XETH', quote: 'XXBT', pairDecimals: 5, lotDecimals: 8, costDecimals: 10, ordermin: '0.002', costmin: '0.00002', status: 'online', leverageBuy: [2, 3, 4, 5], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'ratio', num: 'ETH/USD', den: 'BTC/USD' } },
  { key: 'XXBTZEUR', altname: 'XBTEUR', wsname: 'XBT/EUR', symbol: 'BTC/EUR', base: 'XXBT', quote: 'ZEUR', pairDecimals: 1, lotDecimals: 8, costDecimals: 5, ordermin: '0.00005', costmin: '0.5', status: 'online', leverageBuy: [2, 3, 4, 5], fees: STANDARD_TAKER, feesMaker: STANDARD_MAKER, source: { kind: 'fx', of: 'BTC/USD', usdPerUnit: EUR_USD } },
];

/** Looks a pair up the ways Kraken accepts it: key, altname or wsname ("XXBTZUSD", "XBTUSD", "XBT/USD"). */
export function findPair(pairs: PairDef[], name: string): PairDef | undefined {
  const n = name.toUpperCase();
  return pairs.find((p) => p.key === n || p.altname === n || p.wsname === n);
}

/** The fee (percent) of a tier table for a 30-day USD volume: the highest tier the volume reaches. */
export function feeForVolume(tiers: FeeTiers, volumeUsd: number): { fee: number; tier: number; next?: [number, number] } {
  let idx = 0;
  for (let i = 0; i < tiers.length; i++) if (volumeUsd >= tiers[i]![0]) idx = i;
  const next = tiers[idx + 1];
  return { fee: tiers[idx]![1], tier: tiers[idx]![0], ...(next ? { next } : {}) };
}

export function assetPairInfo(p: PairDef): Record<string, unknown> {
  return {
    altname: p.altname,
    wsname: p.wsname,
    aclass_base: 'currency',
    base: p.base,
    aclass_quote: 'currency',
    quote: p.quote,
    lot: 'unit',
    cost_decimals: p.costDecimals,
    pair_decimals: p.pairDecimals,
    lot_decimals: p.lotDecimals,
    lot_multiplier: 1,
    leverage_buy: p.leverageBuy,
    leverage_sell: p.leverageBuy,
    fees: p.fees,
    fees_maker: p.feesMaker,
    fee_volume_currency: 'ZUSD',
    margin_call: 80,
    margin_stop: 40,
    ordermin: p.ordermin,
    costmin: p.costmin,
    tick_size: (10 ** -p.pairDecimals).toFixed(p.pairDecimals),
    status: p.status,
  };
}

export function assetInfo(a: AssetDef): Record<string, unknown> {
  return { aclass: 'currency', altname: a.altname, decimals: a.decimals, display_decimals: a.displayDecimals, status: 'enabled' };
}
