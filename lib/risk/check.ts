import type { MarketSpec, OrderRequest, OrderType } from '../exchange/types.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import { buyCost, maxBuyAmount, requiredEdge } from './costs.ts';
import { groupExposure, pairExposure } from './exposure.ts';
import { ceilToDecimals, floorToDecimals, lotStep, roundToDecimals } from './rounding.ts';
import type { RiskCode, RiskContext, RiskVerdict } from './types.ts';

/**
 * The one risk gate every submit path goes through (live, simulation, backtest). Pure and
 * allocation-light: called per account, pair and cycle live, and tens of thousands of times a
 * second in backtests.
 *
 * An order *increases* risk when it buys a non-stablecoin pair (entries, hedge buys); those need an
 * ACTIVE account, a USD-quoted online market, room under the pair and correlated-group caps (held
 * positions and resting buys both count: `RiskContext.resting`), and the free USD for
 * amount·price·(1+fee+slippage). Entries also need a stop-loss attached and an expected edge above
 * round-trip costs. Sells of a held long (exits, stop moves, hedge sells) are
 * allowed in every trading state; they are capped at the base balance available.
 */
export function checkOrder(intent: OrderIntent, ctx: RiskContext): RiskVerdict {
  const o = intent.order;
  if (!(o.amount > 0) || !Number.isFinite(o.amount)) return refuse('INVALID_ORDER', `amount must be a positive number, got ${o.amount}`);
  if (o.type !== 'market' && !(o.price! > 0)) return refuse('INVALID_ORDER', `${o.type} order needs a positive price`);
  if (o.side !== 'buy' && o.side !== 'sell') return refuse('INVALID_ORDER', `side must be buy or sell, got ${String(o.side)}`);

  const spec = ctx.markets[o.pair];
  if (spec === undefined) return refuse('NOT_SPOT_USD', `${o.pair} is not a known Kraken spot USD market`);
  if (spec.quote !== 'USD' || spec.symbol !== o.pair) return refuse('NOT_SPOT_USD', `${o.pair} is not USD-quoted spot (quote ${spec.quote})`);

  const sell = o.side === 'sell';
  switch (intent.kind) {
    case 'entry':
      if (sell) return refuse('LONG_ONLY', `entry on ${o.pair} sells: spot is long-only`);
      break;
    case 'exit':
    case 'stop-move':
    case 'protect':
      if (!sell) return refuse('LONG_ONLY', `${intent.kind} on ${o.pair} must sell a held long`);
      break;
    case 'hedge':
      break;
    default:
      return refuse('INVALID_ORDER', `unknown intent kind ${String(intent.kind)}`);
  }

  const mark = ctx.prices[o.pair] ?? ctx.positions[o.pair]?.markPrice;
  return sell ? checkSell(intent, o, spec, mark, ctx) : checkBuy(intent, o, spec, mark, ctx);
}

function refuse(code: RiskCode, detail: string): RiskVerdict {
  return { ok: false, code, detail };
}

function meetsMinimum(amount: number, price: number, spec: MarketSpec): boolean {
  return amount > 0 && amount >= spec.minAmount && amount * price >= spec.minCost;
}

const LIMIT_TYPES: ReadonlySet<OrderType> = new Set(['limit', 'stop-loss-limit', 'take-profit-limit']);

/** Whether a market status accepts an order that reduces a long (entries need `online`). */
function statusAllowsReduce(spec: MarketSpec, o: OrderRequest): boolean {
  switch (spec.status) {
    case 'online':
    case 'reduce_only':
      return true;
    case 'limit_only':
      return LIMIT_TYPES.has(o.type);
    case 'post_only':
      return o.type === 'limit' && o.postOnly === true;
    case 'cancel_only':
      return false;
  }
}

/** The order's price as it will be sent: a buy limit pays no more, a sell limit takes no less; triggers to the nearest tick. */
function sentPrice(o: OrderRequest, spec: MarketSpec): number | undefined {
  const d = spec.pricePrecision;
  if (o.price === undefined) return undefined;
  if (o.type !== 'limit') return roundToDecimals(o.price, d);
  return o.side === 'buy' ? floorToDecimals(o.price, d) : ceilToDecimals(o.price, d);
}

function roundPrices(o: OrderRequest, spec: MarketSpec, amount: number): OrderRequest {
  const d = spec.pricePrecision;
  const price = sentPrice(o, spec);
  const out: OrderRequest = { ...o, amount };
  if (price !== undefined) out.price = price;
  if (o.price2 !== undefined) out.price2 = roundToDecimals(o.price2, d);
  if (o.close !== undefined) {
    out.close = { ...o.close, price: roundToDecimals(o.close.price, d) };
    if (o.close.price2 !== undefined) out.close.price2 = roundToDecimals(o.close.price2, d);
  }
  return out;
}

function approve(o: OrderRequest, spec: MarketSpec, amount: number, adjusted: string | null): RiskVerdict {
  const order = roundPrices(o, spec, amount);
  return adjusted === null ? { ok: true, order } : { ok: true, order, adjusted };
}

function checkSell(intent: OrderIntent, o: OrderRequest, spec: MarketSpec, mark: number | undefined, ctx: RiskContext): RiskVerdict {
  if (!statusAllowsReduce(spec, o)) return refuse('MARKET_NOT_TRADABLE', `${o.pair} is ${spec.status}: ${o.type} sell not accepted`);
  const price = o.type === 'market' ? mark : sentPrice(o, spec);
  if (price === undefined || !(price > 0)) return refuse('NO_PRICE', `no price to value the ${o.pair} sell`);
  if (intent.kind === 'stop-move' && mark !== undefined && o.type !== 'market' && price >= mark)
    return refuse('INVALID_ORDER', `stop ${price} on ${o.pair} is not below the mark ${mark}`);

  // A stop move replaces a stop whose order holds the base, so it may use the held part too.
  const bal = ctx.balances[spec.base];
  const available = bal === undefined ? 0 : intent.kind === 'stop-move' ? bal.total : bal.free;
  const requested = floorToDecimals(o.amount, spec.amountPrecision);
  let amount = requested;
  let adjusted: string | null = null;
  if (amount > available) {
    // Selling more than is held would be a short; an exit sells what there is.
    amount = floorToDecimals(available, spec.amountPrecision);
    if (amount > available) amount = roundToDecimals(amount - lotStep(spec.amountPrecision), spec.amountPrecision);
    if (!(amount > 0)) return refuse('EXCEEDS_FREE_BALANCE', `sell ${requested} ${spec.base} on ${o.pair}, ${available} available`);
    adjusted = `reduced to the available ${spec.base} balance ${available} (asked ${requested})`;
  }
  if (!meetsMinimum(amount, price, spec))
    return refuse('BELOW_EXCHANGE_MINIMUM', `${amount} ${spec.base} (≈${(amount * price).toFixed(2)} USD) under ordermin ${spec.minAmount} / costmin ${spec.minCost}`);
  return approve(o, spec, amount, adjusted);
}

function checkBuy(intent: OrderIntent, o: OrderRequest, spec: MarketSpec, mark: number | undefined, ctx: RiskContext): RiskVerdict {
  const s = ctx.settings;
  // Buying a USD stablecoin moves cash into cash: no exposure, allowed in every state (it is the hedge).
  const risky = !spec.stablecoin;
  if (spec.status !== 'online') return refuse('MARKET_NOT_TRADABLE', `${o.pair} is ${spec.status}: no new buys`);
  if (risky && ctx.tradingState === 'HALTED') return refuse('DAILY_DRAWDOWN_HALT', `account halted by daily drawdown: no ${intent.kind} buys`);
  if (risky && ctx.tradingState === 'REDUCING') return refuse('REDUCING_EXITS_ONLY', `account reducing after soft daily drawdown: exits only`);

  const ref = o.type === 'market' ? mark : sentPrice(o, spec);
  if (ref === undefined || !(ref > 0)) return refuse('NO_PRICE', `no price to value the ${o.pair} buy`);
  // Value added exposure at the higher of the order's price and the mark: never under-count.
  const expPrice = mark !== undefined && mark > ref ? mark : ref;
  const fee = spec.takerFee;
  const slip = ctx.slippage[o.pair] ?? s.defaultSlippage;

  if (intent.kind === 'entry') {
    const c = o.close;
    if (c === undefined || (c.type !== 'stop-loss' && c.type !== 'stop-loss-limit'))
      return refuse('NO_STOP_LOSS', `entry on ${o.pair} has no stop-loss attached`);
    // Judge the stop as it will be sent: rounded to the pair's price decimals.
    const stop = roundToDecimals(c.price, spec.pricePrecision);
    if (!(stop > 0) || stop >= ref) return refuse('NO_STOP_LOSS', `stop-loss ${stop} on ${o.pair} is not below the entry price ${ref}`);
    // Rounding may widen a stop by up to a tick; allow that, nothing more.
    if ((ref - stop) / ref > s.maxSlPct + 10 ** -spec.pricePrecision / ref)
      return refuse('NO_STOP_LOSS', `stop-loss ${stop} on ${o.pair} is further than maxSlPct ${s.maxSlPct} below ${ref}`);
    const need = requiredEdge(fee, slip, s.edgeMargin);
    if (!(intent.expectedEdge >= need))
      return refuse('EDGE_BELOW_COSTS', `expected edge ${intent.expectedEdge.toFixed(5)} < round-trip costs + margin ${need.toFixed(5)} on ${o.pair}`);
  }

  const prec = spec.amountPrecision;
  const requested = floorToDecimals(o.amount, prec);
  if (!meetsMinimum(requested, ref, spec))
    return refuse('BELOW_EXCHANGE_MINIMUM', `${requested} ${spec.base} (≈${(requested * ref).toFixed(2)} USD) under ordermin ${spec.minAmount} / costmin ${spec.minCost}`);

  const usd = ctx.balances['USD'];
  const freeUsd = (usd === undefined ? 0 : usd.free) - (intent.kind === 'entry' ? (ctx.reservedUsd ?? 0) : 0);
  const pairCap = s.maxPairExposure * ctx.equity;
  const groupCap = s.maxGroupExposure * ctx.equity;
  const pairNow = risky ? pairExposure(ctx, o.pair) : 0;
  const groupNow = risky ? groupExposure(ctx, o.pair) : 0;
  const fits = (a: number): RiskCode | null =>
    risky && pairNow + a * expPrice > pairCap
      ? 'EXCEEDS_PAIR_EXPOSURE'
      : risky && groupNow + a * expPrice > groupCap
        ? 'EXCEEDS_CORRELATED_EXPOSURE'
        : buyCost(a, ref, fee, slip) > freeUsd
          ? 'EXCEEDS_FREE_BALANCE'
          : null;

  if (fits(requested) === null) return approve(o, spec, requested, null);

  // The tightest of the three limits, as an amount, names the binding constraint.
  let max = maxBuyAmount(freeUsd, ref, fee, slip);
  let binding: RiskCode = 'EXCEEDS_FREE_BALANCE';
  if (risky) {
    const byGroup = (groupCap - groupNow) / expPrice;
    if (byGroup <= max) {
      max = byGroup;
      binding = 'EXCEEDS_CORRELATED_EXPOSURE';
    }
    const byPair = (pairCap - pairNow) / expPrice;
    if (byPair <= max) {
      max = byPair;
      binding = 'EXCEEDS_PAIR_EXPOSURE';
    }
  }
  const limitText = () =>
    `${o.pair} buy ${requested}: room for ${max > 0 ? max.toPrecision(6) : 0} (pair ${pairNow.toFixed(2)}/${pairCap.toFixed(2)} USD, group ${groupNow.toFixed(2)}/${groupCap.toFixed(2)} USD, free ${freeUsd.toFixed(2)} USD)`;
  if (!s.reduceToFit || !(max > 0)) return refuse(binding, limitText());

  let amount = floorToDecimals(max, prec);
  if (amount > requested) amount = requested;
  // Float rounding can leave the floored amount an ulp over a limit: step down a lot until it fits.
  const step = lotStep(prec);
  for (let i = 0; i < 3 && amount > 0 && fits(amount) !== null; i++) amount = roundToDecimals(amount - step, prec);
  if (!(amount > 0) || fits(amount) !== null || !meetsMinimum(amount, ref, spec)) return refuse(binding, `${limitText()}; under the exchange minimum once reduced`);
  return approve(o, spec, amount, `${binding}: reduced from ${requested} to ${amount}`);
}
