import { entriesAllowed, nextTradingState, transitionActions, type TradingState } from '../risk/drawdown.ts';
import { restingBuyNotional } from '../risk/exposure.ts';
import type { RiskContext, RiskPosition } from '../risk/types.ts';
import { decide, flattenIntents, type HeldPosition } from '../strategy/decide.ts';
import type { OrderIntent } from '../strategy/intent.ts';
import type { AccountBook } from './book.ts';
import { cancelOrder, executeIntents, type Executed, type ExecutionScope } from './execute.ts';
import { protectionFor } from './protection.ts';
import type { AccountSettingsSet, Journal, MarketView } from './types.ts';
import { heldProtection, heldQty, marksOf, valuation } from './valuation.ts';
import { isPending, type Venue } from './venue.ts';
import type { Balances } from '../exchange/types.ts';

export interface OrderPhaseInput {
  accountId: string;
  settings: AccountSettingsSet;
  market: MarketView;
  venue: Venue;
  book: AccountBook;
  journal: Journal;
}

export interface OrderPhaseResult {
  book: AccountBook;
  equity: number;
  tradingState: TradingState;
  /** The state changed this cycle (REDUCING / HALTED / back to ACTIVE on a new day). */
  transition: { from: TradingState | null; to: TradingState; cancelEntries: boolean; flatten: boolean } | null;
  executed: Executed[];
  cancelledEntries: string[];
}

/**
 * One account's order step at one decision time: mark to market, advance the daily-drawdown state,
 * decide per pair, and send what the risk engine approves. Shared by the live order function and
 * the backtest, so both trade identically on identical inputs.
 */
export async function runOrderPhase(i: OrderPhaseInput): Promise<OrderPhaseResult> {
  const { market, settings, venue } = i;
  const now = market.now;
  const marks = marksOf(market.bars);
  const read = venue.balances();
  const balances = isPending(read) ? await read : read;
  const { equity } = valuation(balances, market.markets, marks);
  const pairs: string[] = [];
  for (const p of settings.trading.pairs) if (market.markets[p] && market.bars[p]) pairs.push(p);
  const held = heldQty(balances, market.markets, pairs);
  const book: AccountBook = { ...i.book, protection: heldProtection(i.book.protection, held) }; // a position closed (e.g. its stop filled) loses its record

  // Daily drawdown on the UTC day: the first equity seen in a day is that day's reference.
  const dayStart = book.dayStart && utcDay(book.dayStart.time) === utcDay(now) ? book.dayStart : { time: now, equity };
  const prev = book.tradingState;
  const state = nextTradingState(prev, { equity, dayStartEquity: dayStart.equity > 0 ? dayStart.equity : equity || 1, dayStartTime: dayStart.time, now, settings: settings.risk });
  // A day start after the decision halted the account just now (fail closed); the rest of the day is measured from here.
  book.dayStart = dayStart.time > now ? { time: now, equity } : dayStart;
  book.tradingState = state;
  const changed = prev === null || prev.state !== state.state || prev.dayKey !== state.dayKey;
  const actions = transitionActions(prev, state, settings.risk);
  const transition = changed ? { from: prev, to: state, ...actions } : null;

  // No resting entry (a buy: protective orders are sells) outlives a state that allows none — entered
  // by this cycle's drawdown, or set outside it (an admin's kill switch halts between cycles).
  const cancelledEntries: string[] = [];
  if (actions.cancelEntries || !entriesAllowed(state.state)) {
    for (const o of await venue.openOrders())
      if (o.side === 'buy' && (o.status === 'open' || o.status === 'pending')) {
        await cancelOrder(o, venue, i.journal, `entries cancelled on ${state.state}: ${state.reason}`);
        cancelledEntries.push(o.id);
      }
  }

  let intents: OrderIntent[];
  if (actions.flatten) {
    intents = flattenIntents(i.accountId, now, Object.fromEntries(Object.entries(held).map(([p, q]) => [p, { qty: q }])), `flatten on ${state.state}: ${state.reason}`);
  } else {
    intents = [];
    const openPositions = Object.keys(held).length;
    for (const pair of pairs) {
      const bar = market.bars[pair]!;
      const qty = held[pair] ?? 0;
      const signal = market.signals[pair] ?? null;
      let position: HeldPosition | null = null;
      if (qty > 0) {
        // A holding without recorded protection (bought outside the cycle, or its record was lost) gets stops now.
        const p = (book.protection[pair] ??= protectionFor(bar.close, signal, settings, now));
        position = { qty, avgPrice: p.avgPrice, stopLoss: p.stopLoss, takeProfit: p.takeProfit };
      }
      intents.push(
        ...decide({
          accountId: i.accountId,
          pair,
          decisionTime: now,
          signal,
          position,
          lastBar: bar,
          price: bar.close,
          equity,
          openPositions,
          market: market.markets[pair]!,
          slippage: market.slippage[pair] ?? settings.risk.defaultSlippage,
          trading: settings.trading,
          risk: settings.risk,
        }),
      );
    }
  }

  const readOpen = venue.openOrders();
  const open = isPending(readOpen) ? await readOpen : readOpen;
  // Most bars decide nothing: no risk context to build then (it reads the view's correlation groups).
  let executed: Executed[] = [];
  if (intents.length) {
    const resting = restingBuyNotional(open, marks);
    const makeContext = (b: Balances): RiskContext => riskContext(b, state, settings, market, marks, held, book, equity, resting);
    executed = await executeIntents(intents, venue, i.journal, makeContext, market.markets, scopeOf(i.accountId, now, book));
  }
  for (const e of executed) {
    if (e.result?.status !== 'accepted') continue;
    const pair = e.intent.order.pair;
    if (e.intent.kind === 'entry' && e.intent.stops)
      book.protection[pair] = { stopLoss: e.intent.stops.stopLoss, takeProfit: e.intent.stops.takeProfit, avgPrice: e.result.order.avgPrice ?? marks[pair]!, openedAt: now };
    else if (e.intent.kind === 'exit') delete book.protection[pair];
    else if (e.intent.kind === 'stop-move' && book.protection[pair]) book.protection[pair]!.stopLoss = e.intent.order.price!;
  }
  return { book, equity, tradingState: state, transition, executed, cancelledEntries };
}

const utcDay = (t: number): number => Math.floor(t / 86_400_000);

/** The execution scope of one cycle: ids from the decision time, stop levels read live from the book. */
export const scopeOf = (accountId: string, decisionTime: number, book: AccountBook): ExecutionScope => ({
  accountId,
  decisionTime,
  levels: () => {
    const levels: Record<string, number> = {};
    for (const pair of Object.keys(book.protection)) levels[pair] = book.protection[pair]!.stopLoss;
    return levels;
  },
});

export function riskContext(
  balances: Balances,
  state: TradingState,
  s: AccountSettingsSet,
  market: MarketView,
  marks: Readonly<Record<string, number>>,
  held: Readonly<Record<string, number>>,
  book: AccountBook,
  equity: number,
  resting: Readonly<Record<string, number>>,
): RiskContext {
  const positions: Record<string, RiskPosition> = {};
  for (const pair of Object.keys(held)) positions[pair] = { qty: held[pair]!, avgPrice: book.protection[pair]?.avgPrice ?? marks[pair]!, markPrice: marks[pair]! };
  return {
    settings: s.risk,
    tradingState: state.state,
    balances,
    positions,
    resting,
    prices: marks,
    equity,
    markets: market.markets,
    groupOf: market.groupOf,
    slippage: market.slippage,
    // The hedge's share of equity stays in USD: entries may not spend it.
    reservedUsd: (book.hedge?.target ?? 0) * equity,
  };
}
