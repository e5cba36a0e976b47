/**
 * The two reference strategies of the research table (pure): buy-and-hold and cash, on the same bar
 * times as the backtests of their scope so every row of a scope covers the same instants.
 */
import type { Candle } from '../market/candle.ts';
import type { RunFill, RunPoint, StrategyRun } from './research.ts';

/**
 * The decision times of a backtest over `candles` between `from` and `to` (bar open times): each bar
 * time's snapshot is stamped at the latest close among the pairs that have a bar then — what
 * runBacktest stamps its equity rows with.
 */
export function decisionTimes(candles: Readonly<Record<string, readonly Candle[]>>, from: number, to: number): number[] {
  const closeAt = new Map<number, number>();
  for (const cs of Object.values(candles))
    for (const c of cs) if (c.openTime >= from && c.openTime <= to) closeAt.set(c.openTime, Math.max(closeAt.get(c.openTime) ?? -Infinity, c.openTime + c.interval * 1000));
  return [...closeAt.entries()].sort((a, b) => a[0] - b[0]).map(([, close]) => close);
}

/**
 * Equal weight in every pair of the scope, bought at the close of its first bar closed by the first
 * decision time and held to the end, one taker fee per pair (no slippage: a single order, sized like
 * the account). A pair not listed yet keeps its share in cash and buys at the close of its first bar.
 */
export function buyAndHoldRun(
  scope: string,
  candles: Readonly<Record<string, readonly Candle[]>>,
  times: readonly number[],
  initialUsd: number,
  takerFee: (pair: string) => number,
): StrategyRun {
  const pairs = Object.keys(candles).sort();
  const share = pairs.length ? initialUsd / pairs.length : 0;
  const qty: Record<string, number> = {};
  const cursor: Record<string, number> = Object.fromEntries(pairs.map((p) => [p, 0]));
  const last: Record<string, number | undefined> = {};
  let cash = initialUsd;
  const points: RunPoint[] = [];
  const fills: RunFill[] = [];
  for (const t of times) {
    let positions = 0;
    for (const p of pairs) {
      const cs = candles[p]!;
      while (cursor[p]! < cs.length && cs[cursor[p]!]!.openTime + cs[cursor[p]!]!.interval * 1000 <= t) last[p] = cs[cursor[p]!++]!.close;
      const px = last[p];
      if (px === undefined) continue;
      if (qty[p] === undefined) {
        const fee = share * takerFee(p);
        qty[p] = (share - fee) / px;
        cash -= share;
        fills.push({ time: t, notional: share - fee, fee });
      }
      positions += qty[p]! * px;
    }
    points.push({ ts: t, equity: cash + positions, positions });
  }
  return { scope, strategy: 'buy-and-hold', initialUsd, points, fills };
}

/** USD held throughout: the zero line every strategy has to beat after its costs. */
export function cashRun(scope: string, times: readonly number[], initialUsd: number): StrategyRun {
  return { scope, strategy: 'cash', initialUsd, points: times.map((ts) => ({ ts, equity: initialUsd, positions: 0 })), fills: [] };
}
