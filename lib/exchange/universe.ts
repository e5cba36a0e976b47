import { z } from 'zod';
import type { MarketSpec, MarketStatus } from './types.ts';

/**
 * The USD-spot universe: Aether trades Kraken spot pairs quoted in USD and nothing else. This module
 * turns Kraken's public `AssetPairs` result into MarketSpecs and applies that rule.
 */

/** Kraken's legacy X/Z-prefixed asset codes and XBT/XDG, to the codes everyone else uses. */
const LEGACY_ASSETS: Readonly<Record<string, string>> = {
  XXBT: 'BTC', XBT: 'BTC', XXDG: 'DOGE', XDG: 'DOGE',
  XETH: 'ETH', XETC: 'ETC', XLTC: 'LTC', XMLN: 'MLN', XREP: 'REP', XXLM: 'XLM', XXMR: 'XMR',
  XXRP: 'XRP', XZEC: 'ZEC',
  ZUSD: 'USD', ZEUR: 'EUR', ZGBP: 'GBP', ZCAD: 'CAD', ZJPY: 'JPY', ZAUD: 'AUD', ZCHF: 'CHF',
};

export const unifiedAsset = (krakenAsset: string): string => LEGACY_ASSETS[krakenAsset] ?? krakenAsset;

/** USD stablecoins: tradable as hedge instruments (DESIGN: hedge to USD). */
export const USD_STABLECOINS: ReadonlySet<string> = new Set(['USDC', 'USDT', 'DAI', 'PYUSD']);

const MARKET_STATUSES = ['online', 'cancel_only', 'post_only', 'limit_only', 'reduce_only'] as const satisfies readonly MarketStatus[];

const decimalString = z.string().regex(/^\d+(\.\d+)?$/, 'a non-negative decimal string');
const feeTiers = z.array(z.tuple([z.number().nonnegative(), z.number().nonnegative()])).min(1);

const assetPairSchema = z.object({
  altname: z.string().min(1),
  wsname: z.string().min(1).optional(), // absent on dark-pool pairs
  aclass_base: z.string(),
  base: z.string().min(1),
  aclass_quote: z.string(),
  quote: z.string().min(1),
  pair_decimals: z.number().int().min(0).max(15),
  lot_decimals: z.number().int().min(0).max(15),
  fees: feeTiers,
  fees_maker: feeTiers.optional(),
  ordermin: decimalString,
  costmin: decimalString.optional(),
  status: z.enum(MARKET_STATUSES).optional(),
});
export type KrakenAssetPair = z.infer<typeof assetPairSchema>;

/** The `result` object of `GET /0/public/AssetPairs`; extra fields Kraken adds are ignored. */
export const assetPairsResultSchema = z.record(z.string(), assetPairSchema);

function firstTierFraction(tiers: Array<[number, number]>): number {
  const sorted = [...tiers].sort((a, b) => a[0] - b[0]);
  // Kraken quotes fees in percent; 0.26 → 0.0026. Via toFixed so that 0.26 / 100 stays 0.0026.
  return Number(((sorted[0] as [number, number])[1] / 100).toFixed(8));
}

function toSpec(krakenPair: string, p: KrakenAssetPair): MarketSpec {
  const base = unifiedAsset(p.base);
  const quote = unifiedAsset(p.quote);
  const takerFee = firstTierFraction(p.fees);
  return {
    symbol: `${base}/${quote}`,
    base,
    quote,
    krakenPair,
    altname: p.altname,
    wsname: p.wsname ?? p.altname,
    pricePrecision: p.pair_decimals,
    amountPrecision: p.lot_decimals,
    minAmount: Number(p.ordermin),
    minCost: p.costmin === undefined ? 0 : Number(p.costmin),
    // Kraken omits status on some historical snapshots; a listed pair without one trades normally.
    status: p.status ?? 'online',
    takerFee,
    makerFee: p.fees_maker === undefined ? takerFee : firstTierFraction(p.fees_maker),
    stablecoin: USD_STABLECOINS.has(base),
  };
}

/** Every pair of an AssetPairs result as a MarketSpec, spot or not, USD or not (zod-validated). */
export function parseAssetPairs(result: unknown): Array<MarketSpec & { spot: boolean }> {
  const pairs = assetPairsResultSchema.parse(result);
  return Object.entries(pairs).map(([key, p]) => ({
    ...toSpec(key, p),
    spot: p.aclass_base === 'currency' && p.aclass_quote === 'currency' && !key.endsWith('.d'),
  }));
}

/** The USD-spot markets of an AssetPairs result, sorted by symbol. `cancel_only` pairs are kept (status says so). */
export function marketsFromAssetPairs(result: unknown): MarketSpec[] {
  return parseAssetPairs(result)
    .filter((m) => m.spot)
    .map(({ spot: _spot, ...spec }) => spec)
    .filter(isUsdSpot)
    .sort((a, b) => a.symbol.localeCompare(b.symbol));
}

/** A spot pair quoting a non-USD asset in USD (dark-pool `.d` pairs are not spot). */
export function isUsdSpot(spec: Pick<MarketSpec, 'symbol' | 'base' | 'quote' | 'krakenPair'>): boolean {
  return (
    spec.quote === 'USD' &&
    spec.base !== 'USD' &&
    spec.symbol === `${spec.base}/USD` &&
    !spec.krakenPair.endsWith('.d')
  );
}

/** The market accepts orders that open or add to a position. */
export const acceptsEntries = (spec: Pick<MarketSpec, 'status'>): boolean =>
  spec.status === 'online' || spec.status === 'post_only' || spec.status === 'limit_only';

/** The market accepts orders that only reduce a position (`reduce_only` allows these too). */
export const acceptsExits = (spec: Pick<MarketSpec, 'status'>): boolean =>
  acceptsEntries(spec) || spec.status === 'reduce_only';

export class NotUsdSpotError extends Error {
  readonly code = 'NOT_SPOT_USD';
  constructor(readonly pair: string, detail: string) {
    super(`${pair} is not a tradable Kraken USD spot pair: ${detail}`);
    this.name = 'NotUsdSpotError';
  }
}

/** The spec of `pair` when it is in the USD-spot universe; throws NotUsdSpotError otherwise. */
export function assertUsdSpot(pair: string, markets: readonly MarketSpec[]): MarketSpec {
  const spec = markets.find((m) => m.symbol === pair);
  if (spec === undefined) throw new NotUsdSpotError(pair, 'not among the loaded markets');
  if (!isUsdSpot(spec)) throw new NotUsdSpotError(pair, `quote is ${spec.quote}`);
  return spec;
}

/**
 * Why `pair` cannot be added to an account's trading universe, judged against a USD-spot listing
 * (Kraken's, from `marketsFromAssetPairs`), or null when it can: it must be listed, USD-quoted spot,
 * and accept new positions (`cancel_only` and `reduce_only` markets do not).
 */
export function untradableReason(pair: string, markets: readonly MarketSpec[]): string | null {
  const spec = markets.find((m) => m.symbol === pair);
  if (spec === undefined) return 'Kraken does not list it as a USD spot pair';
  if (!isUsdSpot(spec)) return `it is not USD-quoted spot (quote ${spec.quote})`;
  if (!acceptsEntries(spec)) return `Kraken lists it as ${spec.status}: it takes no new positions`;
  return null;
}
