import type { Balances } from '../exchange/types.ts';
import { drawdownFromPeak } from '../hedge/inputs.ts';
import { hedgeTarget, type HedgeTarget } from '../hedge/policy.ts';
import { hedgeIntents, planRebalance, type HedgeHolding, type RebalanceLeg, type RebalancePlan } from '../hedge/rebalance.ts';
import type { AccountBook } from './book.ts';
import { executeIntents, type Executed } from './execute.ts';
import { riskContext, scopeOf, type OrderPhaseInput } from './order-phase.ts';
import { restingBuyNotional } from '../risk/exposure.ts';
import { heldProtection, heldQty, marksOf, valuation } from './valuation.ts';
import { isPending } from './venue.ts';

export interface EquitySnapshot {
  ts: number;
  equityUsd: number;
  cashUsd: number;
  positionsUsd: number;
  hedgeRatio: number;
  drawdown: number;
}

export interface HedgePhaseResult {
  book: AccountBook;
  target: HedgeTarget;
  plan: RebalancePlan;
  executed: Executed[];
  snapshot: EquitySnapshot;
}

/**
 * The USD hedge at one decision time: target from volatility and drawdown (or the admin's manual
 * ratio), then spot sells pro rata across holdings — through the same risk engine — until at least
 * that share of equity is USD (or the chosen stablecoin). The hedge only ever raises USD: buying
 * risk back is the strategy's decision, and entries may not spend the hedged share (reservedUsd).
 * A position sold down keeps its stop, cut to the rest. Ends with the cycle's equity snapshot.
 */
export async function runHedgePhase(i: OrderPhaseInput): Promise<HedgePhaseResult> {
  const { market, settings, venue } = i;
  const now = market.now;
  const marks = marksOf(market.bars);
  // The protection record is only read until the end, where it is copied for what is still held.
  const book: AccountBook = { ...i.book };
  const first = venue.balances();
  const before = valuation(isPending(first) ? await first : first, market.markets, marks);
  book.peakEquity = Math.max(book.peakEquity, before.equity);
  const target = hedgeTarget(book.hedge, { realisedVolAnnual: market.volAnnual, drawdown: drawdownFromPeak(book.peakEquity, before.equity) }, now, settings.hedge);
  book.hedge = { target: target.target, mode: target.mode };

  const read = venue.balances();
  const balances = isPending(read) ? await read : read;
  const allPairs: string[] = [];
  for (const p of Object.keys(market.markets)) if (marks[p] !== undefined) allPairs.push(p);
  const held = heldQty(balances, market.markets, allPairs);
  const holdings: HedgeHolding[] = [];
  for (const pair of Object.keys(held)) holdings.push({ pair, qty: held[pair]!, price: marks[pair]! });
  const plan = planRebalance({
    holdings,
    cash: balances.USD?.total ?? 0,
    targetRatio: target.target,
    tolerance: settings.hedge.tolerance,
    instrument: settings.hedge.instrument,
    markets: market.markets,
    weights: null,
    prices: marks,
    slippage: market.slippage,
    defaultSlippage: settings.risk.defaultSlippage,
  });
  // Only sales (and stablecoin buys) are the hedge's: the legs are chosen before their intents, whose client ids cost a hash each.
  const hedgeLegs: RebalanceLeg[] = [];
  for (const l of plan.legs) if (l.side === 'sell' || market.markets[l.pair]?.stablecoin) hedgeLegs.push(l);
  const readOpen = venue.openOrders();
  const open = isPending(readOpen) ? await readOpen : readOpen;
  let executed: Executed[] = [];
  if (hedgeLegs.length) {
    const legs = hedgeIntents(hedgeLegs.length === plan.legs.length ? plan : { ...plan, legs: hedgeLegs }, i.accountId, now);
    const state = book.tradingState ?? { state: 'ACTIVE' as const, since: now, reason: 'initial', dayKey: '', drawdown: 0, referenceEquity: null };
    const resting = restingBuyNotional(open, marks);
    const ctxFor = (b: Balances) => riskContext(b, state, settings, market, marks, heldQty(b, market.markets, allPairs), book, before.equity, resting);
    // A sale cuts its pair's stop down to what is left (see executeIntents): the rest stays protected.
    executed = await executeIntents(legs, venue, i.journal, ctxFor, market.markets, scopeOf(i.accountId, now, book));
  }
  const after = venue.balances();
  const left = heldQty(isPending(after) ? await after : after, market.markets, allPairs);
  book.protection = heldProtection(i.book.protection, left);

  const lastRead = venue.balances();
  const v = valuation(isPending(lastRead) ? await lastRead : lastRead, market.markets, marks);
  book.peakEquity = Math.max(book.peakEquity, v.equity);
  return {
    book,
    target,
    plan,
    executed,
    snapshot: { ts: now, equityUsd: v.equity, cashUsd: v.cash, positionsUsd: v.positionsUsd + v.stableUsd, hedgeRatio: v.hedgeRatio, drawdown: drawdownFromPeak(book.peakEquity, v.equity) },
  };
}
