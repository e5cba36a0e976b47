/**
 * Per-account threshold adaptation from rolling trade outcomes (live or simulated). Pure: the caller
 * supplies the closed trades and stores/audits the returned change. Every change is one bounded step
 * per parameter, only after a minimum number of trades, and the values stay inside fixed bounds.
 */
export interface AdaptiveThresholds {
  entry: number; // go long when probUp > entry
  exit: number; // leave when probUp < exit
  slMultiplier: number; // stop-loss distance in ATRs
  tpMultiplier: number; // take-profit distance in ATRs
}

export type ExitReason = 'stop-loss' | 'take-profit' | 'signal' | 'time';

export interface ClosedTrade {
  closedAt: number; // epoch ms
  netReturn: number; // fraction, after fees and slippage
  exitReason: ExitReason;
}

type Range = readonly [number, number];

export interface AdaptationPolicy {
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
  /** Below this share of take-profit exits the target is brought in; above `extendTargetAbove` it is pushed out. */
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
  return {
    trades: n,
    expectancy: n ? trades.reduce((a, t) => a + t.netReturn, 0) / n : NaN,
    winRate: share((t) => t.netReturn > 0),
    stopRate: share((t) => t.exitReason === 'stop-loss'),
    targetRate: share((t) => t.exitReason === 'take-profit'),
  };
}

export function adaptThresholds(accountId: string, current: AdaptiveThresholds, closed: readonly ClosedTrade[], policy: AdaptationPolicy = DEFAULT_ADAPTATION_POLICY): AdaptationResult {
  const sorted = [...closed].sort((a, b) => a.closedAt - b.closedAt);
  const recent = sorted.slice(-policy.window);
  const stats = adaptationStats(recent);
  const reasons: string[] = [];
  const b = policy.bounds;
  const next: AdaptiveThresholds = {
    entry: clampTo(current.entry, b.entry),
    exit: clampTo(current.exit, b.exit),
    slMultiplier: clampTo(current.slMultiplier, b.slMultiplier),
    tpMultiplier: clampTo(current.tpMultiplier, b.tpMultiplier),
  };
  if (JSON.stringify(next) !== JSON.stringify(current)) reasons.push('values brought inside their bounds');

  if (recent.length >= policy.minTrades) {
    if (stats.expectancy < 0) {
      next.entry = clampTo(next.entry + policy.thresholdStep, b.entry);
      reasons.push(`expectancy ${stats.expectancy.toFixed(4)} < 0: raise entry threshold`);
    } else if (stats.expectancy > 0 && stats.winRate > 0.5) {
      next.entry = clampTo(next.entry - policy.thresholdStep, b.entry);
      reasons.push(`expectancy ${stats.expectancy.toFixed(4)} > 0 and win rate ${stats.winRate.toFixed(2)}: lower entry threshold`);
    }
    if (stats.stopRate > policy.widenStopAbove) {
      next.slMultiplier = clampTo(next.slMultiplier + policy.multiplierStep, b.slMultiplier);
      reasons.push(`stop-loss exits ${stats.stopRate.toFixed(2)}: widen stop`);
    } else if (stats.stopRate < policy.tightenStopBelow) {
      next.slMultiplier = clampTo(next.slMultiplier - policy.multiplierStep, b.slMultiplier);
      reasons.push(`stop-loss exits ${stats.stopRate.toFixed(2)}: tighten stop`);
    }
    if (stats.targetRate < policy.closerTargetBelow) {
      next.tpMultiplier = clampTo(next.tpMultiplier - policy.multiplierStep, b.tpMultiplier);
      reasons.push(`take-profit exits ${stats.targetRate.toFixed(2)}: bring target closer`);
    } else if (stats.targetRate > policy.extendTargetAbove) {
      next.tpMultiplier = clampTo(next.tpMultiplier + policy.multiplierStep, b.tpMultiplier);
      reasons.push(`take-profit exits ${stats.targetRate.toFixed(2)}: extend target`);
    }
  }
  // Keep the hysteresis band: exit at most entry − minGap (and inside its own bounds).
  const banded = clampTo(Math.min(next.exit, next.entry - policy.minGap), b.exit);
  if (banded !== next.exit) reasons.push(`exit lowered to keep ${policy.minGap} below entry`);
  next.exit = banded;
  for (const k of Object.keys(next) as (keyof AdaptiveThresholds)[]) next[k] = round(next[k]);

  const changed = (Object.keys(next) as (keyof AdaptiveThresholds)[]).some((k) => next[k] !== current[k]);
  if (!changed) return { thresholds: current, change: null, stats };
  return {
    thresholds: next,
    change: { accountId, at: recent[recent.length - 1]?.closedAt ?? NaN, before: { ...current }, after: { ...next }, reasons, stats },
    stats,
  };
}
