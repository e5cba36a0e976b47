import type { RiskContext } from './types.ts';

/** USD value of the account's position in `pair` at its mark (0 when flat). */
export function pairExposure(ctx: Pick<RiskContext, 'positions'>, pair: string): number {
  const p = ctx.positions[pair];
  return p ? p.qty * p.markPrice : 0;
}

/**
 * USD value of every position in `pair`'s correlated group (pair included). Stablecoin pairs are
 * cash-like and never count. O(positions), no allocation.
 */
export function groupExposure(ctx: Pick<RiskContext, 'positions' | 'groupOf' | 'markets'>, pair: string): number {
  const g = ctx.groupOf[pair];
  if (g === undefined) return pairExposure(ctx, pair);
  let sum = 0;
  for (const other in ctx.positions) {
    if (other !== pair && ctx.groupOf[other] !== g) continue;
    if (ctx.markets[other]?.stablecoin) continue;
    const p = ctx.positions[other]!;
    sum += p.qty * p.markPrice;
  }
  return sum;
}

/** Total risky (non-stablecoin) exposure in USD. */
export function grossExposure(ctx: Pick<RiskContext, 'positions' | 'markets'>): number {
  let sum = 0;
  for (const pair in ctx.positions) {
    if (ctx.markets[pair]?.stablecoin) continue;
    const p = ctx.positions[pair]!;
    sum += p.qty * p.markPrice;
  }
  return sum;
}
