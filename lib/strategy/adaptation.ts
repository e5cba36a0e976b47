import { isStrategyExit, type TradeCause } from './trade-cause.ts';

/**
 * Per-account threshold adaptation from trade outcomes (live or simulated). Pure: the caller
 * supplies the account's fills and stores/audits the returned change. It learns from the causes the
 * cycle tagged its exits with (lib/strategy/trade-cause.ts), never from guesses, and only from trades
 * opened under the values in force: after a change it waits for `minTrades` new trades before the
 * next step, so one batch of trades can never ratchet a parameter step after step (nightly) to its
 * bound. Every change is one bounded step per parameter, with the statistic that justified it.
 */
export interface AdaptiveThresholds {
  entry: number; // go long when probUp > entry
  exit: number; // leave when probUp < exit
  slMultiplier: number; // stop-loss distance in ATRs
  tpMultiplier: number; // take-profit distance in ATRs
}

/** The exits a trade can end with (hedge sales are not exits of a trade). */
export type ExitReason = Extract<TradeCause, 'stop' | 'take-profit' | 'signal' | 'halt'>;

export interface ClosedTrade {
  openedAt: number; // epoch ms: when the position it closed (part of) was opened
  closedAt: number; // epoch ms: its last fill
  netReturn: number; // fraction of the sold quantity's cost, after fees and slippage
  exitReason: ExitReason;
}

/** One fill as the books (fills table) and the backtest (trades.csv) both have it. */
export interface TradeFill {
  time: number;
  pair: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  fee: number; // USD
  realizedPnl: number; // USD, net of fees
  /** Fills of one order share it: an exit filled in parts is one trade. */
  order: string;
  cause: TradeCause;
}

/**
 * The closed trades in a fill history: one per exit order (its fills summed), with the time the
 * position it sold was opened (the buy that took the pair's holding up from zero). Hedge sales and
 * entries are no trades, but they move the holding. Sold quantity's cost = notional − fee − PnL.
 */
export function closedTradesFromFills(fills: readonly TradeFill[]): ClosedTrade[] {
  const held = new Map<string, { qty: number; openedAt: number }>();
  const open = new Map<string, { trade: ClosedTrade; pnl: number; cost: number }>();
  const out: ClosedTrade[] = [];
  const sorted = fills.map((f, i) => ({ f, i })).sort((a, b) => a.f.time - b.f.time || a.i - b.i);
  for (const { f } of sorted) {
    const h = held.get(f.pair) ?? { qty: 0, openedAt: Number.NEGATIVE_INFINITY };
    if (f.side === 'buy') {
      if (!(h.qty > 1e-12)) h.openedAt = f.time;
      h.qty += f.qty;
    } else {
      if (isStrategyExit(f.cause)) {
        let t = open.get(f.order);
        if (!t) {
          t = { trade: { openedAt: h.openedAt, closedAt: f.time, netReturn: 0, exitReason: f.cause }, pnl: 0, cost: 0 };
          open.set(f.order, t);
          out.push(t.trade);
        }
        t.pnl += f.realizedPnl;
        t.cost += f.qty * f.price - f.fee - f.realizedPnl;
        t.trade.closedAt = f.time;
        t.trade.netReturn = t.cost > 0 ? t.pnl / t.cost : 0;
      }
      h.qty = Math.max(0, h.qty - f.qty);
    }
    held.set(f.pair, h);
  }
  return out.sort((a, b) => a.closedAt - b.closedAt);
}

type Range = readonly [number, number];

export interface AdaptationPolicy {
  /** Trades opened under the values in force needed before a step (none older count). */
  minTrades: number;
  window: number; // the most recent trades considered
  thresholdStep: number;
  multiplierStep: number;
  /** exit ≤ entry − minGap keeps a hysteresis band. */
  minGap: number;
  bounds: { entry: Range; exit: Range; slMultiplier: Range; tpMultiplier: Range };
  /** Above this share of stop-loss exits the stop is widened; below `tightenStopBelow` it is tightened. */
  widenStopAbove: number;
  tightenStopBelow: number;
  /**
   * Below this share of take-profit exits — when the trades that did not reach the target lost on
   * average (they gave back what they had) — the target is brought in; above `extendTargetAbove` it
   * is pushed out. Trades that end well on the signal are no reason to move a target they never needed.
   */
  closerTargetBelow: number;
  extendTargetAbove: number;
}

export const DEFAULT_ADAPTATION_POLICY: AdaptationPolicy = {
  minTrades: 20,
  window: 50,
  thresholdStep: 0.01,
  multiplierStep: 0.25,
  minGap: 0.02,
  bounds: { entry: [0.5, 0.7], exit: [0.4, 0.6], slMultiplier: [1, 4], tpMultiplier: [1, 6] },
  widenStopAbove: 0.5,
  tightenStopBelow: 0.1,
  closerTargetBelow: 0.1,
  extendTargetAbove: 0.5,
};

export interface AdaptationStats {
  trades: number;
  expectancy: number; // mean net return per trade
  winRate: number;
  stopRate: number;
  targetRate: number;
  /** Mean net return of the trades that did not end at their take-profit. */
  otherExpectancy: number;
}

export interface AdaptationChange {
  accountId: string;
  at: number; // close time of the newest trade considered
  before: AdaptiveThresholds;
  after: AdaptiveThresholds;
  reasons: string[];
  stats: AdaptationStats;
}

export type AdaptationResult = { thresholds: AdaptiveThresholds; change: AdaptationChange | null; stats: AdaptationStats };

const clampTo = (x: number, [lo, hi]: Range): number => Math.min(hi, Math.max(lo, x));
const round = (x: number): number => Math.round(x * 1e9) / 1e9;

export function adaptationStats(trades: readonly ClosedTrade[]): AdaptationStats {
  const n = trades.length;
  const share = (f: (t: ClosedTrade) => boolean): number => (n ? trades.filter(f).length / n : NaN);
  const mean = (xs: readonly ClosedTrade[]): number => (xs.length ? xs.reduce((a, t) => a + t.netReturn, 0) / xs.length : NaN);
  return {
    trades: n,
    expectancy: mean(trades),
    winRate: share((t) => t.netReturn > 0),
    stopRate: share((t) => t.exitReason === 'stop'),
    targetRate: share((t) => t.exitReason === 'take-profit'),
    otherExpectancy: mean(trades.filter((t) => t.exitReason !== 'take-profit')),
  };
}

/**
 * One adaptation step. `since`: when the current values took effect (their settings' time) — only
 * trades opened at or after it are evidence about them.
 */
export function adaptThresholds(
  accountId: string,
  current: AdaptiveThresholds,
  closed: readonly ClosedTrade[],
  policy: AdaptationPolicy = DEFAULT_ADAPTATION_POLICY,
  since = Number.NEGATIVE_INFINITY,
): AdaptationResult {
  const sorted = closed.filter((t) => t.openedAt >= since).sort((a, b) => a.closedAt - b.closedAt);
  const recent = sorted.slice(-policy.window);
  const stats = adaptationStats(recent);
  const reasons: string[] = [];
  const b = policy.bounds;
  const next: AdaptiveThresholds = { ...current };
  // A step moves a value inside its range and keeps it there. A value outside it was set there on
  // purpose (an admin's settings): the adaptation leaves it alone rather than move it without evidence.
  const step = (k: keyof AdaptiveThresholds, delta: number, why: string): void => {
    const [lo, hi] = b[k];
    if (current[k] < lo || current[k] > hi) return;
    const x = clampTo(current[k] + delta, b[k]);
    if (x === current[k]) return;
    next[k] = x;
    reasons.push(why);
  };

  if (recent.length >= policy.minTrades) {
    if (stats.expectancy < 0) step('entry', policy.thresholdStep, `expectancy ${stats.expectancy.toFixed(4)} < 0 over ${stats.trades} trades: raise entry threshold`);
    else if (stats.expectancy > 0 && stats.winRate > 0.5)
      step('entry', -policy.thresholdStep, `expectancy ${stats.expectancy.toFixed(4)} > 0 and win rate ${stats.winRate.toFixed(2)} over ${stats.trades} trades: lower entry threshold`);
    if (stats.stopRate > policy.widenStopAbove) step('slMultiplier', policy.multiplierStep, `stop exits ${stats.stopRate.toFixed(2)} of ${stats.trades}: widen stop`);
    else if (stats.stopRate < policy.tightenStopBelow) step('slMultiplier', -policy.multiplierStep, `stop exits ${stats.stopRate.toFixed(2)} of ${stats.trades}: tighten stop`);
    if (stats.targetRate < policy.closerTargetBelow && stats.otherExpectancy < 0)
      step('tpMultiplier', -policy.multiplierStep, `take-profit exits ${stats.targetRate.toFixed(2)} of ${stats.trades} and the other exits lose ${stats.otherExpectancy.toFixed(4)} on average: bring target closer`);
    else if (stats.targetRate > policy.extendTargetAbove) step('tpMultiplier', policy.multiplierStep, `take-profit exits ${stats.targetRate.toFixed(2)} of ${stats.trades}: extend target`);
  }
  // Keep the hysteresis band when the entry threshold came down: exit at most entry − minGap.
  if (next.entry !== current.entry && next.exit > next.entry - policy.minGap) {
    next.exit = next.entry - policy.minGap;
    reasons.push(`exit lowered to keep ${policy.minGap} below entry`);
  }
  for (const k of Object.keys(next) as (keyof AdaptiveThresholds)[]) next[k] = round(next[k]);

  const changed = (Object.keys(next) as (keyof AdaptiveThresholds)[]).some((k) => next[k] !== current[k]);
  if (!changed) return { thresholds: current, change: null, stats };
  return {
    thresholds: next,
    change: { accountId, at: recent[recent.length - 1]?.closedAt ?? NaN, before: { ...current }, after: { ...next }, reasons, stats },
    stats,
  };
}
