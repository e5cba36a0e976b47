import type { Balances, MarketSpec } from '../exchange/types.ts';
import type { Protection } from './book.ts';

/** Base asset held per pair (spot: a position is the base balance), for the pairs given. */
export function heldQty(balances: Balances, markets: Readonly<Record<string, MarketSpec>>, pairs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs) {
    const m = markets[pair];
    const qty = m ? (balances[m.base]?.total ?? 0) : 0;
    if (qty > 0) out[pair] = qty;
  }
  return out;
}

/**
 * The book's protection records of the pairs held (qty > 0), in the record's order: a copy, written
 * as a new object rather than copied whole and deleted from (a delete turns a record into a slow
 * dictionary, and every phase of every bar copies it).
 */
export function heldProtection(protection: Readonly<Record<string, Protection>>, held: Readonly<Record<string, number>>): Record<string, Protection> {
  const out: Record<string, Protection> = {};
  for (const pair of Object.keys(protection)) if (held[pair]! > 0) out[pair] = protection[pair]!;
  return out;
}

/** Equity marked to market: USD plus every held base asset at its pair's mark. */
export function valuation(balances: Balances, markets: Readonly<Record<string, MarketSpec>>, marks: Readonly<Record<string, number>>) {
  const cash = balances.USD?.total ?? 0;
  let positions = 0;
  let stable = 0;
  for (const pair of Object.keys(markets)) {
    const m = markets[pair]!;
    const qty = balances[m.base]?.total ?? 0;
    const px = marks[pair];
    if (!(qty > 0) || px === undefined) continue;
    const v = qty * px;
    if (m.stablecoin) stable += v;
    else positions += v;
  }
  const equity = cash + positions + stable;
  return { equity, cash, positionsUsd: positions, stableUsd: stable, hedgeRatio: equity > 0 ? (cash + stable) / equity : 0 };
}

let marksOfBars: object | null = null;
let marksMemo: Readonly<Record<string, number>> = {};

/**
 * Each pair's newest close: the marks a cycle values and risk-checks at. One object per set of bars
 * (read-only), which every phase of the cycles on one view shares. Only the newest bars' marks are
 * kept: a cycle asks for one view's many times in a row, and a new view each bar would otherwise
 * leave a WeakMap entry per bar for the collector.
 */
export function marksOf(bars: Readonly<Record<string, { close: number }>>): Readonly<Record<string, number>> {
  if (bars !== marksOfBars) {
    const m: Record<string, number> = {};
    for (const p in bars) if (Object.hasOwn(bars, p)) m[p] = bars[p]!.close;
    [marksOfBars, marksMemo] = [bars, m];
  }
  return marksMemo;
}
