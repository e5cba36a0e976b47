import type { BrokerOrder } from '../exchange/types.ts';
import type { RiskContext } from './types.ts';

type Held = Pick<RiskContext, 'positions' | 'resting'>;

/**
 * USD value of the account's position in `pair` at its mark plus the notional of its resting buys
 * (0 when flat and nothing rests). A resting buy is exposure the account has already committed to:
 * counting only held positions would let a cycle stack a new entry on an unfilled one and breach the
 * cap the moment both fill.
 */
export function pairExposure(ctx: Held, pair: string): number {
  const p = ctx.positions[pair];
  return (p ? p.qty * p.markPrice : 0) + (ctx.resting[pair] ?? 0);
}

/**
 * USD value of every position and resting buy in `pair`'s correlated group (pair included).
 * Stablecoin pairs are cash-like and never count. O(positions + resting), no allocation.
 */
export function groupExposure(ctx: Held & Pick<RiskContext, 'groupOf' | 'markets'>, pair: string): number {
  const g = ctx.groupOf[pair];
  if (g === undefined) return pairExposure(ctx, pair);
  let sum = 0;
  for (const other in ctx.positions) {
    if (other !== pair && ctx.groupOf[other] !== g) continue;
    if (ctx.markets[other]?.stablecoin) continue;
    const p = ctx.positions[other]!;
    sum += p.qty * p.markPrice;
  }
  for (const other in ctx.resting) {
    if (other !== pair && ctx.groupOf[other] !== g) continue;
    if (ctx.markets[other]?.stablecoin) continue;
    sum += ctx.resting[other]!;
  }
  return sum;
}

/** Total risky (non-stablecoin) exposure in USD, resting buys included. */
export function grossExposure(ctx: Held & Pick<RiskContext, 'markets'>): number {
  let sum = 0;
  for (const pair in ctx.positions) {
    if (ctx.markets[pair]?.stablecoin) continue;
    const p = ctx.positions[pair]!;
    sum += p.qty * p.markPrice;
  }
  for (const pair in ctx.resting) {
    if (ctx.markets[pair]?.stablecoin) continue;
    sum += ctx.resting[pair]!;
  }
  return sum;
}

/** What a buy of `qty` at `price` adds to exposure: valued at the higher of its price and the mark, never under-counted. */
export const buyNotional = (qty: number, price: number | null | undefined, mark: number | undefined): number =>
  qty * Math.max(price ?? mark ?? 0, mark ?? 0);

/**
 * `RiskContext.resting` from a venue's open orders: per pair, the unfilled remainder of every open
 * (or pending) buy, valued like a new buy (the higher of its limit and the pair's mark). Sells are
 * not exposure; stablecoin buys are ignored later by the checks, not here.
 */
export function restingBuyNotional(
  orders: readonly Pick<BrokerOrder, 'pair' | 'side' | 'status' | 'amount' | 'filled' | 'price'>[],
  marks: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of orders) {
    if (o.side !== 'buy' || (o.status !== 'open' && o.status !== 'pending')) continue;
    const rest = o.amount - o.filled;
    if (!(rest > 0)) continue;
    out[o.pair] = (out[o.pair] ?? 0) + buyNotional(rest, o.price, marks[o.pair]);
  }
  return out;
}
