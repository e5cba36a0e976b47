import type { OrderRequest } from '../exchange/types.ts';
import { buyCost, sellProceeds } from './costs.ts';
import { buyNotional } from './exposure.ts';
import type { RiskContext } from './types.ts';

/**
 * The context after an approved order is submitted, so that several intents checked in one cycle
 * cannot together overspend or overshoot a cap. A buy reserves its full cost (fees and slippage
 * included) and counts as exposure at once: a market buy as position (it fills now), any other buy
 * as a resting order (`resting`, valued like the check values it) until a later cycle sees it fill.
 * A sell reserves its base but keeps the exposure until it fills (the cautious side of both); a
 * market sell's USD is spendable by the next order at once, valued at the mark less the taker fee
 * and the expected slippage (the cycle does not read the balances again after each sale: a remote
 * read per order would delay every later one).
 */
export function reserveApproved(ctx: RiskContext, order: OrderRequest): RiskContext {
  const spec = ctx.markets[order.pair];
  if (spec === undefined) throw new RangeError(`reserveApproved: unknown market ${order.pair}`);
  const balances = { ...ctx.balances };
  if (order.side === 'buy') {
    const mark = ctx.prices[order.pair] ?? ctx.positions[order.pair]?.markPrice;
    const price = order.type === 'market' ? mark : order.price;
    if (price === undefined) throw new RangeError(`reserveApproved: no price for ${order.pair}`);
    const cost = buyCost(order.amount, price, spec.takerFee, ctx.slippage[order.pair] ?? ctx.settings.defaultSlippage);
    const usd = balances['USD'] ?? { total: 0, hold: 0, free: 0 };
    balances['USD'] = { total: usd.total, hold: usd.hold + cost, free: usd.free - cost };
    if (order.type !== 'market') {
      const resting = { ...ctx.resting, [order.pair]: (ctx.resting[order.pair] ?? 0) + buyNotional(order.amount, price, mark) };
      return { ...ctx, balances, resting };
    }
    const pos = ctx.positions[order.pair];
    const markPrice = mark !== undefined && mark > price ? mark : price;
    const positions = { ...ctx.positions, [order.pair]: pos ? { ...pos, qty: pos.qty + order.amount } : { qty: order.amount, avgPrice: price, markPrice } };
    return { ...ctx, balances, positions };
  }
  const bal = balances[spec.base] ?? { total: 0, hold: 0, free: 0 };
  balances[spec.base] = { total: bal.total, hold: bal.hold + order.amount, free: bal.free - order.amount };
  const mark = ctx.prices[order.pair] ?? ctx.positions[order.pair]?.markPrice;
  if (order.type === 'market' && mark !== undefined) {
    const usd = balances['USD'] ?? { total: 0, hold: 0, free: 0 };
    const proceeds = sellProceeds(order.amount, mark, spec.takerFee, ctx.slippage[order.pair] ?? ctx.settings.defaultSlippage);
    balances['USD'] = { total: usd.total + proceeds, hold: usd.hold, free: usd.free + proceeds };
  }
  return { ...ctx, balances };
}
