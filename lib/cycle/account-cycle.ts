import { restingBuyNotional } from '../risk/exposure.ts';
import type { AccountBook } from './book.ts';
import { applyProtection, type Executed } from './execute.ts';
import { runHedgePhase, type HedgePhaseResult } from './hedge-phase.ts';
import { riskContext, runOrderPhase, scopeOf, type OrderPhaseInput, type OrderPhaseResult } from './order-phase.ts';
import { planProtection, protectionFor, type ProtectionAction } from './protection.ts';
import { heldProtection, heldQty, marksOf, valuation } from './valuation.ts';
import { isPending } from './venue.ts';

/** What a cycle works with: the same as each of its phases. */
export type AccountCycleInput = OrderPhaseInput;

export interface ProtectionCheck {
  phase: 'start' | 'end';
  actions: ProtectionAction[];
  placed: Executed[];
}

export interface AccountCycleResult {
  book: AccountBook;
  order: OrderPhaseResult;
  hedge: HedgePhaseResult;
  protection: ProtectionCheck[];
}

/**
 * One account at one decision time, the same in the live order job, the simulated one and the
 * backtest: protection check → order phase → hedge phase → protection check. The checks hold the
 * invariant that every holding rests behind stops at its recorded level — at the start (after a
 * crash, a stop that filled in part, a lost record) and at the end (whatever the phases did).
 */
export async function runAccountCycle(i: AccountCycleInput): Promise<AccountCycleResult> {
  const start = await protectHoldings(i, i.book, 'start');
  const order = await runOrderPhase(withBook(i, start.book));
  const hedge = await runHedgePhase(withBook(i, order.book));
  const end = await protectHoldings(i, hedge.book, 'end');
  return { book: end.book, order, hedge, protection: [start.check, end.check] };
}

/** The cycle's input with the book a phase left (the fields written out: a spread per phase per bar shows in a backtest). */
const withBook = (i: AccountCycleInput, book: AccountBook): AccountCycleInput => ({ accountId: i.accountId, settings: i.settings, market: i.market, venue: i.venue, book, journal: i.journal });

/** Records a stop level for every holding that has none, then makes the venue's stops match (see planProtection). */
export async function protectHoldings(i: AccountCycleInput, given: AccountBook, phase: ProtectionCheck['phase']): Promise<{ book: AccountBook; check: ProtectionCheck }> {
  const { market, venue, settings } = i;
  const now = market.now;
  const marks = marksOf(market.bars);
  // A synchronous venue (the backtest's engine) answers without a microtask trip.
  const readBalances = venue.balances();
  const balances = isPending(readBalances) ? await readBalances : readBalances;
  const readOpen = venue.openOrders();
  const open = isPending(readOpen) ? await readOpen : readOpen;
  // Stablecoins are the hedge, not a risk to stop out; a pair without a bar has no price to set a level from.
  const pairs: string[] = [];
  for (const p of Object.keys(market.bars)) if (market.markets[p] && !market.markets[p].stablecoin) pairs.push(p);
  const held = heldQty(balances, market.markets, pairs);
  // The recorded protection of what is held (in the record's order), then a level for each holding without one.
  const protection = heldProtection(given.protection, held);
  for (const pair of Object.keys(held)) protection[pair] ??= protectionFor(marks[pair]!, market.signals[pair] ?? null, settings, now);
  const book: AccountBook = { ...given, protection };

  const levels: Record<string, number> = {};
  for (const pair of Object.keys(protection)) levels[pair] = protection[pair]!.stopLoss;
  const actions = planProtection({ held, levels, open, markets: market.markets });
  if (!actions.length) return { book, check: { phase, actions, placed: [] } };
  const state = book.tradingState ?? { state: 'ACTIVE' as const, since: now, reason: 'initial', dayKey: '', drawdown: 0, referenceEquity: null };
  const { equity } = valuation(balances, market.markets, marks);
  const resting = restingBuyNotional(open, marks);
  const placed = await applyProtection(
    actions,
    venue,
    i.journal,
    (b) => riskContext(b, state, settings, market, marks, heldQty(b, market.markets, pairs), book, equity, resting),
    market.markets,
    scopeOf(i.accountId, now, book),
    phase,
  );
  return { book, check: { phase, actions, placed } };
}
