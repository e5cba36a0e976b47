import type { MarketSpec, Side } from '../exchange/types.ts';
import { floorToDecimals } from '../risk/rounding.ts';
import { clientId } from '../strategy/clientId.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import type { HedgeSettings } from './settings.ts';

/** Holdings in base units at a USD price; stablecoin pairs (market.stablecoin) count as hedge. */
export interface HedgeHolding {
  pair: string;
  qty: number;
  price: number;
}

export interface RebalanceInput {
  holdings: readonly HedgeHolding[];
  /** USD cash (total, including holds). */
  cash: number;
  targetRatio: number;
  tolerance: number;
  instrument: HedgeSettings['instrument'];
  markets: Readonly<Record<string, MarketSpec>>;
  /** The strategy's current weights by pair, for buying back risk; null → the current holdings' weights. */
  weights: Readonly<Record<string, number>> | null;
  /** Prices of weighted pairs not held. */
  prices: Readonly<Record<string, number>>;
  slippage: Readonly<Record<string, number>>;
  defaultSlippage: number;
}

export interface RebalanceLeg {
  pair: string;
  side: Side;
  amount: number; // floored to the lot precision
  price: number;
  usd: number; // amount × price
}

export interface RebalancePlan {
  equity: number;
  hedgeValue: number; // USD + stablecoins
  actualRatio: number;
  targetRatio: number;
  legs: RebalanceLeg[];
  /** Legs dropped: dust under the exchange minimum, no price, no market. */
  skipped: { pair: string; reason: string }[];
}

/** The share of equity held in USD and USD stablecoins. */
export function hedgeRatio(holdings: readonly HedgeHolding[], cash: number, markets: Readonly<Record<string, MarketSpec>>): { equity: number; hedgeValue: number; ratio: number } {
  let equity = cash;
  let hedgeValue = cash;
  for (const h of holdings) {
    const v = h.qty * h.price;
    equity += v;
    if (markets[h.pair]?.stablecoin) hedgeValue += v;
  }
  return { equity, hedgeValue, ratio: equity > 0 ? hedgeValue / equity : 0 };
}

/**
 * Spot orders that move the USD share of equity to the target: sells pro rata across risky
 * holdings to raise USD, buys pro rata to the strategy's weights to lower it. With a stablecoin
 * instrument the hedge is parked in (or drawn from) that coin. Proceeds of this cycle's sells are
 * not spent in the same cycle (they are not settled yet): the next cycle finishes the move.
 * Nothing happens inside the tolerance; legs under the exchange minimum are skipped as dust, and a
 * sale that would leave dust behind sells the whole holding (dust cannot carry a stop on Kraken).
 */
export function planRebalance(i: RebalanceInput): RebalancePlan {
  const { equity, hedgeValue, ratio } = hedgeRatio(i.holdings, i.cash, i.markets);
  const plan: RebalancePlan = { equity, hedgeValue, actualRatio: ratio, targetRatio: i.targetRatio, legs: [], skipped: [] };
  if (!(equity > 0) || Math.abs(ratio - i.targetRatio) <= i.tolerance) return plan;

  // Helpers at module level and loops, not closures: a backtest plans every bar, and the TypeScript loader names every closure it creates.
  const risky: HedgeHolding[] = [];
  for (const h of i.holdings) if (h.qty > 0 && !i.markets[h.pair]?.stablecoin) risky.push(h);
  const stable = i.instrument === 'USD' ? null : i.holdings.find((h) => h.pair === i.instrument) ?? null;
  const stablePrice = stable?.price ?? i.prices[i.instrument] ?? 1;
  const want = i.targetRatio * equity;
  const diff = want - hedgeValue;

  if (diff > 0) {
    const riskyValue = risky.reduce((s, h) => s + h.qty * h.price, 0);
    for (const h of risky) {
      const fee = i.markets[h.pair]?.takerFee ?? 0;
      const gross = (diff * ((h.qty * h.price) / riskyValue)) / (1 - fee - slipOf(i, h.pair));
      const amount = Math.min(h.qty, gross / h.price);
      // A remainder under the exchange minimum could never rest behind a stop of its own: sell it too.
      const spec = i.markets[h.pair];
      const rest = h.qty - amount;
      const dustLeft = spec !== undefined && rest > 0 && (rest < spec.minAmount || rest * h.price < spec.minCost);
      addLeg(plan, i, h.pair, 'sell', dustLeft ? h.qty : amount, h.price);
    }
    if (i.instrument !== 'USD') {
      // Park today's cash in the stablecoin up to the target (fee and slippage on top).
      const spec = i.markets[i.instrument];
      const stableValue = (stable?.qty ?? 0) * stablePrice;
      const usd = Math.min(i.cash, want - stableValue);
      if (usd > 0 && spec !== undefined) addLeg(plan, i, i.instrument, 'buy', usd / (stablePrice * (1 + spec.takerFee + slipOf(i, i.instrument))), stablePrice);
      else if (spec === undefined) plan.skipped.push({ pair: i.instrument, reason: 'no market' });
    }
    return plan;
  }

  // Too much USD: buy risk back at the strategy's weights, from cash on hand.
  // Stablecoin is sold only for the part cash cannot cover; those USD are spent next cycle.
  const need = Math.min(-diff, i.cash);
  const short = -diff - i.cash;
  if (stable !== null && stable.qty > 0 && short > 0) {
    const fee = i.markets[i.instrument]?.takerFee ?? 0;
    addLeg(plan, i, i.instrument, 'sell', Math.min(stable.qty, short / (stablePrice * (1 - fee - slipOf(i, i.instrument)))), stablePrice);
  }
  const weights: Record<string, number> = {};
  let sum = 0;
  if (i.weights !== null) {
    for (const pair in i.weights) {
      const w = i.weights[pair]!;
      if (w > 0 && !i.markets[pair]?.stablecoin) {
        weights[pair] = w;
        sum += w;
      }
    }
  } else {
    for (const h of risky) {
      weights[h.pair] = h.qty * h.price;
      sum += h.qty * h.price;
    }
  }
  if (!(sum > 0) || !(need > 0)) {
    if (!(sum > 0)) plan.skipped.push({ pair: '*', reason: 'no strategy weights to buy back into' });
    return plan;
  }
  for (const pair of Object.keys(weights).sort()) {
    const price = i.holdings.find((h) => h.pair === pair)?.price ?? i.prices[pair];
    if (price === undefined || !(price > 0)) {
      plan.skipped.push({ pair, reason: 'no price' });
      continue;
    }
    const fee = i.markets[pair]?.takerFee ?? 0;
    addLeg(plan, i, pair, 'buy', (need * weights[pair]!) / sum / (price * (1 + fee + slipOf(i, pair))), price);
  }
  return plan;
}

/** Expected slippage of a pair's market order. */
const slipOf = (i: RebalanceInput, pair: string): number => i.slippage[pair] ?? i.defaultSlippage;

/** A leg of `rawAmount` floored to the lot, or skipped as dust (or without a market). */
function addLeg(plan: RebalancePlan, i: RebalanceInput, pair: string, side: Side, rawAmount: number, price: number): void {
  const spec = i.markets[pair];
  if (spec === undefined) return void plan.skipped.push({ pair, reason: 'no market' });
  const amount = floorToDecimals(rawAmount, spec.amountPrecision);
  if (!(amount > 0) || amount < spec.minAmount || amount * price < spec.minCost)
    return void plan.skipped.push({ pair, reason: `dust: ${amount} under ordermin ${spec.minAmount} / costmin ${spec.minCost}` });
  plan.legs.push({ pair, side, amount, price, usd: amount * price });
}

/** The plan's legs as market-order intents of kind 'hedge' (they still pass the risk engine). */
export function hedgeIntents(plan: RebalancePlan, accountId: string, decisionTime: number): OrderIntent[] {
  const why = `hedge rebalance: ${(plan.actualRatio * 100).toFixed(1)}% → ${(plan.targetRatio * 100).toFixed(1)}% USD`;
  return plan.legs.map((l) => ({
    kind: 'hedge' as const,
    cause: 'hedge' as const,
    accountId,
    decisionTime,
    order: { clientId: clientId(accountId, l.pair, decisionTime, 'hedge'), pair: l.pair, side: l.side, type: 'market' as const, amount: l.amount },
    reason: why,
    signal: null,
    expectedEdge: 0,
  }));
}
