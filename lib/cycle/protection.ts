import type { AmendChange, BrokerOrder, MarketSpec } from '../exchange/types.ts';
import { roundToDecimals } from '../risk/rounding.ts';
import { computeStops } from '../risk/stops.ts';
import type { Regime, Signal } from '../strategy/signal.ts';
import type { Protection } from './book.ts';
import type { AccountSettingsSet } from './types.ts';

/**
 * The protection invariant: every held quantity rests behind stop-loss sells at the level recorded
 * for its position. This module says what it takes to get there from what the venue shows (pure),
 * so the cycle can check it at its start and end, after every sale and after a crash.
 */

const STOP_TYPES = new Set(['stop-loss', 'stop-loss-limit']);
const OPEN = new Set(['open', 'pending']);

/** The open stop-loss sells of a pair: what protects its holding on the venue. */
export function restingStops(open: readonly BrokerOrder[], pair: string): BrokerOrder[] {
  const out: BrokerOrder[] = [];
  for (const o of open) if (o.pair === pair && isRestingStop(o)) out.push(o);
  return out;
}

const isRestingStop = (o: BrokerOrder): boolean => o.side === 'sell' && STOP_TYPES.has(o.type) && OPEN.has(o.status);

/** Quantity an open order still rests for. */
export const restingQty = (o: BrokerOrder): number => Math.max(0, o.amount - o.filled);

/** A holding with no recorded protection (bought outside the cycle, or its record was lost) gets stops from the current bar. */
export function protectionFor(price: number, signal: Signal | null, s: AccountSettingsSet, now: number): Protection {
  const regime: Regime = signal?.regime.label ?? 'sideways';
  const stops = computeStops(price, signal?.atrPct ?? 0.02, regime, s.risk);
  return { stopLoss: stops.stopLoss, takeProfit: stops.takeProfit, avgPrice: price, openedAt: now };
}

export type ProtectionAction =
  /** A stop triggering elsewhere than recorded, or resting for more than is held. */
  | { kind: 'amend'; pair: string; order: BrokerOrder; change: AmendChange; why: string }
  /** A stop with nothing left to protect, or whose remainder would be under the exchange minimum. */
  | { kind: 'cancel'; pair: string; order: BrokerOrder; why: string }
  /** A new stop for the held quantity no stop covers. */
  | { kind: 'place'; pair: string; amount: number; price: number; why: string };

export interface ProtectionInput {
  /** Base quantity held per pair. */
  held: Readonly<Record<string, number>>;
  /** The recorded stop level per held pair. */
  levels: Readonly<Record<string, number>>;
  open: readonly BrokerOrder[];
  markets: Readonly<Record<string, MarketSpec>>;
}

/**
 * What to change so that each held pair's stops rest at its recorded level for exactly its held
 * quantity. A holding under the exchange minimum (dust) cannot carry a stop on Kraken and is left
 * alone; its stops, if any, are cut to what is held.
 */
export function planProtection(i: ProtectionInput): ProtectionAction[] {
  const out: ProtectionAction[] = [];
  // Held pairs and pairs with a resting stop, each once, in sorted order. (Loops, not closures: the
  // cycle checks protection twice per bar, and the TypeScript loader names every closure it makes.)
  const pairs = Object.keys(i.held);
  for (const o of i.open) if (isRestingStop(o) && !pairs.includes(o.pair)) pairs.push(o.pair);
  if (pairs.length > 1) pairs.sort();
  for (const pair of pairs) {
    const spec = i.markets[pair];
    if (spec) planPair(out, pair, spec, i.held[pair] ?? 0, i.levels[pair], restingStops(i.open, pair));
  }
  return out;
}

/** The larger resting quantity first, then the older order. */
const largestFirst = (a: BrokerOrder, b: BrokerOrder): number => restingQty(b) - restingQty(a) || a.createdAt - b.createdAt;

/** One pair's actions, appended to `out`: cancels and places first, then one amend per order (whatever it changes). */
function planPair(out: ProtectionAction[], pair: string, spec: MarketSpec, heldRaw: number, level: number | undefined, resting: BrokerOrder[]): void {
  // Quantities in whole lots: float sums of amounts (0.99999 + 0.00001) must not miss a lot.
  const lot = 10 ** -spec.amountPrecision;
  const held = Math.floor(heldRaw / lot + 1e-6);
  const price = level === undefined ? undefined : roundToDecimals(level, spec.pricePrecision);
  const amends = new Map<string, Extract<ProtectionAction, { kind: 'amend' }>>();

  // Quantity first: never more resting than held (the excess could never fill); the largest stops stay.
  let left = held;
  const kept: Array<{ order: BrokerOrder; rests: number }> = [];
  if (resting.length > 1) resting.sort(largestFirst); // a fresh array (restingStops)
  for (const o of resting) {
    const rests = lots(restingQty(o), lot);
    if (left <= 0) {
      out.push({ kind: 'cancel', pair, order: o, why: `nothing left to protect on ${pair}` });
      continue;
    }
    if (rests <= left) {
      kept.push({ order: o, rests });
      left -= rests;
      continue;
    }
    if (!tradable(left, o.price ?? price ?? 0, spec)) out.push({ kind: 'cancel', pair, order: o, why: `${qtyOf(left, spec)} ${spec.base} left is under the exchange minimum for a stop` });
    else {
      amend(amends, pair, o, { amount: qtyOf(lots(o.filled, lot) + left, spec) }, `rests for ${qtyOf(rests, spec)} with ${qtyOf(held, spec)} held`);
      kept.push({ order: o, rests: left });
    }
    left = 0;
  }
  if (price !== undefined && held > 0) {
    // Then the level: every kept stop triggers at the recorded price.
    const tick = 10 ** -spec.pricePrecision;
    for (const { order } of kept) if (order.price === null || Math.abs(order.price - price) > tick / 2) amend(amends, pair, order, { price }, `trigger ${order.price} → recorded level ${price}`);

    // Then the gap: what no stop covers gets a stop of its own, or tops up the largest one.
    if (left > 0) {
      const first = kept[0];
      if (tradable(left, price, spec)) out.push({ kind: 'place', pair, amount: qtyOf(left, spec), price, why: `${qtyOf(left, spec)} of ${qtyOf(held, spec)} ${spec.base} held without a stop` });
      else if (first) amend(amends, pair, first.order, { amount: qtyOf(lots(first.order.filled, lot) + first.rests + left, spec) }, `${qtyOf(left, spec)} ${spec.base} uncovered, under the minimum for a stop of its own`);
      // else: the whole holding is under the exchange minimum (dust): Kraken takes no stop for it.
    }
  }
  for (const a of amends.values()) out.push(a);
}

/** A quantity in whole lots. */
const lots = (x: number, lot: number): number => Math.round(x / lot);
/** `n` lots as an amount of the base. */
const qtyOf = (n: number, spec: MarketSpec): number => roundToDecimals(n * 10 ** -spec.amountPrecision, spec.amountPrecision);
/** `n` lots at `px` clear the exchange minimums. */
const tradable = (n: number, px: number, spec: MarketSpec): boolean => qtyOf(n, spec) >= spec.minAmount && qtyOf(n, spec) * px >= spec.minCost;

function amend(amends: Map<string, Extract<ProtectionAction, { kind: 'amend' }>>, pair: string, o: BrokerOrder, change: AmendChange, why: string): void {
  const a = amends.get(o.id);
  if (a) {
    a.change = { ...a.change, ...change };
    a.why = `${a.why}; ${why}`;
  } else amends.set(o.id, { kind: 'amend', pair, order: o, change, why });
}
