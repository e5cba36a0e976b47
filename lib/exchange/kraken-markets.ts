/**
 * Kraken market metadata as the broker needs it: a lookup over the USD-spot MarketSpecs, the account's
 * real fee tier from TradeVolume, and the AddOrder parameters of an OrderRequest — rounded to the
 * pair's precision (conditional-close prices too: ccxt passes raw params through) and checked
 * against the minimums before anything is sent. Pure: no I/O.
 */
import { z } from 'zod';
import { minimumViolation, roundDown, roundPrice } from './precision.ts';
import type { RejectCode } from './kraken-errors.ts';
import type { MarketSpec, OrderRequest, Side } from './types.ts';

export class MarketIndex {
  private readonly byKey = new Map<string, MarketSpec>();
  private readonly bySymbol = new Map<string, MarketSpec>();
  constructor(readonly all: readonly MarketSpec[]) {
    for (const m of all) {
      this.bySymbol.set(m.symbol, m);
      for (const k of [m.krakenPair, m.altname, m.wsname]) this.byKey.set(k.toUpperCase(), m);
    }
  }

  /** By AssetPairs key, altname or wsname, as Kraken names pairs in orders and trades. */
  byKraken(name: string): MarketSpec | undefined {
    return this.byKey.get(name.toUpperCase());
  }

  bySymbolName(symbol: string): MarketSpec | undefined {
    return this.bySymbol.get(symbol);
  }

  /** The markets that accept new orders now: status `online` (the tradable universe). */
  tradable(): MarketSpec[] {
    return this.all.filter((m) => m.status === 'online');
  }
}

// ---- fee tier ----

const feeInfoSchema = z.object({ fee: z.string() });
export const tradeVolumeSchema = z.object({
  currency: z.string(),
  volume: z.string(),
  fees: z.record(z.string(), feeInfoSchema).optional(),
  fees_maker: z.record(z.string(), feeInfoSchema).optional(),
});

export interface FeeTier {
  volume30dUsd: number;
  /** Fractions by AssetPairs key: 0.0026 = 0.26 %. */
  taker: Record<string, number>;
  maker: Record<string, number>;
  fetchedAt: number;
}

const pct = (s: string): number => Number((Number(s) / 100).toFixed(8));

/** Parses a TradeVolume result (queried with `pair=` so that fees are included). */
export function parseTradeVolume(result: unknown, fetchedAt: number): FeeTier {
  const r = tradeVolumeSchema.parse(result);
  const map = (x: Record<string, { fee: string }> | undefined) => Object.fromEntries(Object.entries(x ?? {}).map(([k, v]) => [k, pct(v.fee)]));
  const taker = map(r.fees);
  const maker = r.fees_maker === undefined ? taker : map(r.fees_maker);
  return { volume30dUsd: Number(r.volume), taker, maker, fetchedAt };
}

/** The spec with the account's own fee rates in place of the AssetPairs base tier. */
export function withFeeTier(m: MarketSpec, tier: FeeTier): MarketSpec {
  const taker = tier.taker[m.krakenPair];
  const maker = tier.maker[m.krakenPair];
  return { ...m, takerFee: taker ?? m.takerFee, makerFee: maker ?? taker ?? m.makerFee };
}

// ---- AddOrder parameters ----

// Kraken accepts a UUID, a 32-hex short UUID, or up to 18 printable ASCII characters as cl_ord_id.
const CL_ORD_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|[\x21-\x7e]{1,18})$/i;

export type PreparedOrder =
  | { ok: true; params: Record<string, string>; amount: number; price: number | null; price2: number | null; close: { price: number; price2: number | null } | null }
  | { ok: false; code: RejectCode; reason: string };

const opposite = (s: Side): Side => (s === 'buy' ? 'sell' : 'buy');
const isLimitLike = (t: string): boolean => t === 'limit' || t.endsWith('-limit');

function entryAllowed(m: MarketSpec, req: OrderRequest): string | null {
  switch (m.status) {
    case 'online':
      return null;
    case 'post_only':
      return req.type === 'limit' && req.postOnly === true ? null : 'the market is post_only';
    case 'limit_only':
      return req.type === 'limit' ? null : 'the market is limit_only';
    default:
      return `the market is ${m.status}`;
  }
}

const bad = (code: RejectCode, reason: string): PreparedOrder => ({ ok: false, code, reason });
const positive = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x) && x > 0;

/**
 * AddOrder parameters for `req` on market `m`. Never sets `leverage`, `reduce_only` or any margin
 * field: Aether trades spot only. Refusals come back as values with a stable code.
 */
export function prepareAddOrder(req: OrderRequest, m: MarketSpec): PreparedOrder {
  const closed = entryAllowed(m, req);
  if (closed !== null) return bad('MARKET_NOT_TRADABLE', `${m.symbol}: ${closed}`);
  if (!CL_ORD_ID.test(req.clientId)) return bad('INVALID_ORDER', `clientId ${JSON.stringify(req.clientId)} is not a valid Kraken cl_ord_id`);
  if (req.side !== 'buy' && req.side !== 'sell') return bad('INVALID_ORDER', `side ${String(req.side)}`);
  // Spot has no shorts: a sell can never open a position, and a reduce-only buy has nothing to reduce.
  if (req.reduceOnly === true && req.side === 'buy') return bad('INVALID_ORDER', 'reduceOnly buy on spot: there is no short to reduce');
  if (req.postOnly === true && req.type !== 'limit') return bad('INVALID_ORDER', 'postOnly needs a limit order');
  if (!positive(req.amount)) return bad('INVALID_ORDER', `amount must be positive, got ${req.amount}`);

  const pd = m.pricePrecision;
  const amount = roundDown(req.amount, m.amountPrecision);
  let price: number | null = null;
  let price2: number | null = null;
  if (req.type === 'market') {
    if (req.price !== undefined || req.price2 !== undefined) return bad('INVALID_ORDER', 'a market order takes no price');
  } else {
    if (!positive(req.price)) return bad('INVALID_ORDER', `${req.type} needs a positive price`);
    // A limit never pays more (buy) or takes less (sell) than asked; a trigger goes to the nearest tick.
    price = req.type === 'limit' ? roundPrice(req.price, pd, req.side) : roundPrice(req.price, pd);
    if (req.type.endsWith('-limit')) {
      if (!positive(req.price2)) return bad('INVALID_ORDER', `${req.type} needs a positive price2`);
      price2 = roundPrice(req.price2, pd, req.side);
    } else if (req.price2 !== undefined) return bad('INVALID_ORDER', `${req.type} takes no price2`);
  }
  if (amount <= 0 || (price !== null && price <= 0) || (price2 !== null && price2 <= 0)) {
    return bad('BELOW_EXCHANGE_MINIMUM', `${m.symbol}: rounds to zero at the pair's precision`);
  }
  // Cost is checked at the price that bounds it; a market order without a price is checked on amount only.
  const costPrice = price2 ?? price;
  const violation = costPrice === null ? (amount < m.minAmount ? `${m.symbol}: amount ${amount} is below ordermin ${m.minAmount}` : null) : minimumViolation(m, amount, costPrice);
  if (violation !== null) return bad('BELOW_EXCHANGE_MINIMUM', violation);

  const params: Record<string, string> = {
    pair: m.krakenPair,
    type: req.side,
    ordertype: req.type,
    volume: amount.toFixed(m.amountPrecision),
    cl_ord_id: req.clientId,
  };
  if (price !== null) params.price = price.toFixed(pd);
  if (price2 !== null) params.price2 = price2.toFixed(pd);
  if (req.postOnly === true) params.oflags = 'post';

  let close: { price: number; price2: number | null } | null = null;
  if (req.close !== undefined) {
    const c = req.close;
    if (!positive(c.price)) return bad('INVALID_ORDER', 'close needs a positive price');
    const cp = roundPrice(c.price, pd);
    let cp2: number | null = null;
    if (isLimitLike(c.type)) {
      if (!positive(c.price2)) return bad('INVALID_ORDER', `close ${c.type} needs a positive price2`);
      cp2 = roundPrice(c.price2, pd, opposite(req.side));
    }
    if (cp <= 0 || (cp2 !== null && cp2 <= 0)) return bad('INVALID_ORDER', 'close price rounds to zero');
    params['close[ordertype]'] = c.type;
    params['close[price]'] = cp.toFixed(pd);
    if (cp2 !== null) params['close[price2]'] = cp2.toFixed(pd);
    close = { price: cp, price2: cp2 };
  }
  return { ok: true, params, amount, price, price2, close };
}

/** Fields that would make a Kraken order a margin order; asserted absent before every AddOrder. */
export const MARGIN_PARAMS: readonly string[] = ['leverage', 'reduce_only', 'margin'];
