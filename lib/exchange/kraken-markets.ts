/**
 * Kraken market metadata as the broker needs it: a lookup over the USD-spot MarketSpecs, the account's
 * real fee tier from TradeVolume, and the AddOrder parameters of an OrderRequest — rounded to the
 * pair's precision (conditional-close prices too: ccxt passes raw params through) and checked
 * against the minimums before anything is sent. Pure: no I/O.
 */
import { z } from 'zod';
import { minimumViolation, roundDown, roundPrice } from './precision.ts';
import type { RejectCode } from './kraken-errors.ts';
import type { AmendChange, MarketSpec, OrderRequest, OrderType, Side } from './types.ts';

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

const bad = (code: RejectCode, reason: string): { ok: false; code: RejectCode; reason: string } => ({ ok: false, code, reason });
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
  // Fees always in the quote (USD): Kraken's default is the base currency on sells (`fcib`) and the
  // quote on buys (`fciq`), and the books, balances and reconciliation assume USD fees.
  params.oflags = req.postOnly === true ? `post,${FEE_IN_QUOTE}` : FEE_IN_QUOTE;

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

/**
 * The order flag that makes Kraken charge the fee in the quote currency (USD for every Aether pair).
 * Kraken's AddOrder documents `fcib` (fee in base) as the default when selling and `fciq` (fee in
 * quote) as the default when buying; Aether sends `fciq` on every order so the fee currency never
 * depends on the side: fills, balances and PnL are booked with USD fees.
 */
export const FEE_IN_QUOTE = 'fciq';

// ---- AmendOrder parameters ----

/** The resting order an amend applies to, as the exchange shows it now. */
export interface AmendTarget {
  type: OrderType;
  side: Side;
  amount: number;
  filled: number;
  price: number | null; // limit price (limit) or trigger price (stop-loss / take-profit and their -limit forms)
  price2: number | null; // limit price of a *-limit trigger order
}

export type PreparedAmend =
  | { ok: true; params: Record<string, string>; target: { amount: number; price: number | null; price2: number | null }; noop: boolean }
  | { ok: false; code: RejectCode; reason: string };

const isTrigger = (t: OrderType): boolean => t !== 'market' && t !== 'limit';

/**
 * AmendOrder parameters (`order_qty`, `limit_price`, `trigger_price`; the caller adds `txid`) for
 * `change` on `order`, rounded to the pair's precision like AddOrder's: the quantity down, a limit
 * price in the owner's favour, a trigger to the nearest tick. `change.price` is the limit price of a
 * limit order and the trigger of a stop-loss / take-profit (plain or -limit); `change.price2` the
 * limit price of a -limit order. `target` is the order as it should look afterwards (to compare
 * with the exchange after an ambiguous amend); `noop` when it already looks like that.
 */
export function prepareAmendOrder(order: AmendTarget, change: AmendChange, m: MarketSpec): PreparedAmend {
  if (order.type === 'market') return bad('INVALID_ORDER', 'a market order cannot be amended');
  if (change.amount === undefined && change.price === undefined && change.price2 === undefined) return bad('INVALID_ORDER', 'an amend needs an amount, a price or a price2');
  if (change.price2 !== undefined && !order.type.endsWith('-limit')) return bad('INVALID_ORDER', `${order.type} has no price2 to amend`);
  const pd = m.pricePrecision;
  const params: Record<string, string> = {};
  let amount = order.amount;
  let price = order.price;
  let price2 = order.price2;
  if (change.amount !== undefined) {
    if (!positive(change.amount)) return bad('INVALID_ORDER', `amount must be positive, got ${change.amount}`);
    amount = roundDown(change.amount, m.amountPrecision);
    if (amount <= order.filled) return bad('INVALID_ORDER', `${m.symbol}: amount ${amount} is not above what has filled (${order.filled})`);
    params.order_qty = amount.toFixed(m.amountPrecision);
  }
  if (change.price !== undefined) {
    if (!positive(change.price)) return bad('INVALID_ORDER', `price must be positive, got ${change.price}`);
    price = isTrigger(order.type) ? roundPrice(change.price, pd) : roundPrice(change.price, pd, order.side);
    if (price <= 0) return bad('BELOW_EXCHANGE_MINIMUM', `${m.symbol}: price rounds to zero at the pair's precision`);
    params[isTrigger(order.type) ? 'trigger_price' : 'limit_price'] = price.toFixed(pd);
  }
  if (change.price2 !== undefined) {
    if (!positive(change.price2)) return bad('INVALID_ORDER', `price2 must be positive, got ${change.price2}`);
    price2 = roundPrice(change.price2, pd, order.side);
    if (price2 <= 0) return bad('BELOW_EXCHANGE_MINIMUM', `${m.symbol}: price2 rounds to zero at the pair's precision`);
    params.limit_price = price2.toFixed(pd);
  }
  if (amount <= 0) return bad('BELOW_EXCHANGE_MINIMUM', `${m.symbol}: amount rounds to zero at the pair's precision`);
  const costPrice = price2 ?? price;
  const violation = costPrice === null ? (amount < m.minAmount ? `${m.symbol}: amount ${amount} is below ordermin ${m.minAmount}` : null) : minimumViolation(m, amount, costPrice);
  if (violation !== null) return bad('BELOW_EXCHANGE_MINIMUM', violation);
  const target = { amount, price, price2 };
  return { ok: true, params, target, noop: amendReached(order, target, m) };
}

/** Whether `order` already shows the amend's target values (to the pair's precision). */
export function amendReached(order: Pick<AmendTarget, 'amount' | 'price' | 'price2'>, target: { amount: number; price: number | null; price2: number | null }, m: MarketSpec): boolean {
  const same = (a: number | null, b: number | null, decimals: number) => (a === null || b === null ? a === b : Math.abs(a - b) < 0.5 * 10 ** -decimals);
  return same(order.amount, target.amount, m.amountPrecision) && same(order.price, target.price, m.pricePrecision) && same(order.price2, target.price2, m.pricePrecision);
}

/** Fields that would make a Kraken order a margin order; asserted absent before every AddOrder. */
export const MARGIN_PARAMS: readonly string[] = ['leverage', 'reduce_only', 'margin'];
