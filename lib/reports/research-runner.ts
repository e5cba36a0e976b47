/**
 * `aether research` without the CLI: plans the scopes and windows, runs every backtest (baseline and
 * ML through runBacktest; buy-and-hold and cash on the same bar times), and cuts the table's rows.
 */
import type { BacktestReport } from '../cycle/backtest-report.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { BTC_PAIR } from '../ml/features.ts';
import { buyAndHoldRun, cashRun, decisionTimes } from './research-benchmarks.ts';
import { inlineRunner, workerPool, type TaskRunner } from './research-pool.ts';
import {
  barTimes,
  researchWarmupBars,
  retrainSchedule,
  type BacktestOutcome,
  type ResearchContext,
  type ResearchTask,
  type SignalEntry,
  type SignalsOutcome,
} from './research-tasks.ts';
import { researchPeriods, researchRows, runFromBacktest, STRATEGIES, type Period, type ResearchRow, type Strategy, type StrategyRun } from './research.ts';

export const ALL_PAIRS = 'all pairs';

/**
 * Research refits the ML model weekly by default. Over the repository's two years × 3 pairs the ML
 * pass costs ~33 CPU-seconds of scoring whatever the cadence, plus ~0.13 s per refit: weekly (100
 * refits) measured 47 CPU-s, the train job's daily cadence (699 refits, `--retrain-every 24`) 120 —
 * which on 2 cores does not leave the whole table inside its 120 s target.
 */
export const DEFAULT_RESEARCH_RETRAIN_EVERY = 168;

export interface ResearchOptions {
  candles: Record<string, Candle[]>;
  markets: MarketSpec[]; // fees as they apply (the CLI's --fees overrides them)
  initialUsd: number;
  strategies: readonly Strategy[];
  retrainEveryBars: number;
  trainBars: number;
  /** The live nightly adaptation's cron (UTC) inside the baseline and ML backtests; null: fixed settings. */
  adaptationCron: string | null;
  feeSource: string;
  from?: number;
  to?: number;
  /** Worker threads; 0 runs everything in this thread. */
  workers: number;
  minYearDays?: number;
  onProgress?: (message: string) => void;
}

export interface ScopePlan {
  name: string;
  pairs: string[];
  from: number; // first decision bar's open
  to: number; // last bar open
}

export interface ResearchResult {
  scopes: ScopePlan[];
  periods: Record<string, Period[]>;
  runs: StrategyRun[];
  rows: ResearchRow[];
  reports: Array<{ scope: string; strategy: Strategy; report: BacktestReport }>;
  notes: string[];
  warmupBars: number;
  ml: { retrains: number; attempts: number; firstModelAt: string | null; stretches: number; seconds: number } | null;
  backtests: number;
  threads: number;
  seconds: number;
}

const iso = (t: number): string => new Date(t).toISOString();

/**
 * Scopes: every pair together (when there are several) and each alone. A scope's window ends at the
 * earliest last candle among ALL the pairs given — so the all-pairs scope never values a pair at a
 * stale price, ML's BTC/USD features exist throughout, and every scope's years mean the same dates —
 * and starts after the warm-up bars of its first candles (or at `from`, with older bars as warm-up).
 */
export function planScopes(candles: Readonly<Record<string, readonly Candle[]>>, warmupBars: number, from?: number, to?: number): { scopes: ScopePlan[]; notes: string[] } {
  const pairs = Object.keys(candles).sort();
  const notes: string[] = [];
  const lastOpen = Math.min(...pairs.map((p) => candles[p]!.at(-1)?.openTime ?? -Infinity));
  const end = Math.min(to ?? Infinity, lastOpen);
  for (const p of pairs) {
    const last = candles[p]!.at(-1)?.openTime ?? -Infinity;
    if (last > end && to === undefined) notes.push(`${p}: candles after ${iso(end)} (to ${iso(last)}) are not used — the other pairs' data ends there`);
  }
  const scopes: ScopePlan[] = [];
  const defs: Array<[string, string[]]> = pairs.length > 1 ? [[ALL_PAIRS, pairs], ...pairs.map((p): [string, string[]] => [p, [p]])] : pairs.map((p) => [p, [p]]);
  for (const [name, ps] of defs) {
    const firsts = ps.map((p) => candles[p]![0]).filter((c): c is Candle => c !== undefined);
    const first = firsts.reduce((a, c) => (c.openTime < a.openTime ? c : a), firsts[0]!);
    const start = Math.max(from ?? -Infinity, first.openTime + warmupBars * first.interval * 1000);
    if (!(start < end)) {
      notes.push(`${name}: skipped — not enough data after ${warmupBars} bars of warm-up`);
      continue;
    }
    scopes.push({ name, pairs: ps, from: start, to: end });
  }
  return { scopes, notes };
}

/** Split the retrain schedule into about `parts` stretches of similar length, each starting at a retrain. */
export function stretches(schedule: readonly number[], total: number, parts: number): Array<{ warmIndex: number | null; startIndex: number; endIndex: number }> {
  const starts: number[] = [];
  for (let k = 0; k < parts; k++) {
    const target = (k * total) / parts;
    let best = 0;
    for (let j = 0; j < schedule.length; j++) if (Math.abs(schedule[j]! - target) < Math.abs(schedule[best]! - target)) best = j;
    if (!starts.includes(best)) starts.push(best);
  }
  starts.sort((a, b) => a - b);
  if (starts[0] !== 0) starts.unshift(0);
  return starts.map((s, k) => ({
    warmIndex: s > 0 ? schedule[s - 1]! : null,
    startIndex: schedule[s] ?? 0,
    endIndex: k + 1 < starts.length ? schedule[starts[k + 1]!]! : total,
  }));
}

export async function runResearch(o: ResearchOptions): Promise<ResearchResult> {
  const t0 = performance.now();
  const say = o.onProgress ?? (() => undefined);
  const wantMl = o.strategies.includes('ml');
  if (wantMl && !o.candles[BTC_PAIR]) throw new Error('the ML strategy needs BTC/USD candles: its cross-asset features read BTC/USD');
  const warmupBars = researchWarmupBars(wantMl);
  const { scopes, notes } = planScopes(o.candles, warmupBars, o.from, o.to);
  if (!scopes.length) throw new Error(`no scope has data after ${warmupBars} bars of warm-up`);
  const ctx: ResearchContext = {
    candles: o.candles,
    markets: [...o.markets],
    initialUsd: o.initialUsd,
    retrainEveryBars: o.retrainEveryBars,
    trainBars: o.trainBars,
    adaptationCron: o.adaptationCron,
    feeSource: o.feeSource,
  };
  const threads = Math.max(0, Math.floor(o.workers));
  const runner: TaskRunner = threads > 0 ? workerPool(ctx, threads) : inlineRunner(ctx);
  const reports: ResearchResult['reports'] = [];
  const runs: StrategyRun[] = [];
  let backtests = 0;
  let ml: ResearchResult['ml'] = null;
  try {
    const backtest = async (scope: ScopePlan, strategy: 'baseline' | 'ml', task: ResearchTask): Promise<void> => {
      const r = (await runner.run(task)) as BacktestOutcome;
      backtests++;
      say(`${strategy} backtest of ${scope.name}: ${r.steps} steps in ${(r.ms / 1000).toFixed(1)} s`);
      reports.push({ scope: scope.name, strategy, report: r.report });
      runs.push(runFromBacktest(scope.name, strategy, o.initialUsd, r));
    };
    const jobs: Promise<void>[] = [];
    if (wantMl) {
      // The ML signals over the widest window (the all-pairs scope's, or the one pair's), in stretches.
      const widest = scopes.reduce((a, s) => (s.pairs.length > a.pairs.length || (s.pairs.length === a.pairs.length && s.from < a.from) ? s : a));
      const pairs = Object.keys(o.candles).sort();
      const interval = o.candles[pairs[0]!]![0]!.interval;
      const times = barTimes(o.candles, widest.from, widest.to);
      const schedule = retrainSchedule(times, o.retrainEveryBars, interval);
      const parts = threads > 1 ? Math.min(threads * 3, Math.floor(schedule.length / 2)) : 1;
      const plan = stretches(schedule, times.length, Math.max(1, parts));
      const tm = performance.now();
      say(`ML walk-forward: ${schedule.length} retrains due (every ${o.retrainEveryBars} bars, at most ${o.trainBars} bars each) over ${times.length} decision times, in ${plan.length} stretch(es)`);
      const mlDone = Promise.all(plan.map((p) => runner.run({ kind: 'ml-signals', pairs, from: widest.from, to: widest.to, ...p }) as Promise<SignalsOutcome>)).then((outs) => {
        // A stretch whose warm-up retrain found no model, after one that ended with a model, would not equal one pass.
        outs.forEach((s, k) => {
          if (k > 0 && s.warmFitted === false && outs[k - 1]!.modelAtEnd) throw new Error('ML walk-forward stretches disagree with a sequential pass (a retrain found too few rows mid-way); run with --workers 0');
        });
        const all = outs.flatMap((s) => s.retrains);
        const fitted = all.filter((r) => r.fitted);
        ml = { retrains: fitted.length, attempts: all.length, firstModelAt: fitted[0] ? iso(fitted[0].asOf) : null, stretches: plan.length, seconds: (performance.now() - tm) / 1000 };
        say(`ML walk-forward: ${fitted.length} models fitted in ${ml.seconds.toFixed(1)} s`);
        return outs.flatMap((s) => s.signals);
      });
      for (const scope of scopes) {
        jobs.push(
          mlDone.then((signals: SignalEntry[]) => {
            const mine = signals.filter(([k]) => scope.pairs.some((p) => k.startsWith(`${p}|`)));
            return backtest(scope, 'ml', { kind: 'backtest', strategy: 'ml', scope: scope.name, pairs: scope.pairs, from: scope.from, to: scope.to, signals: mine });
          }),
        );
      }
    }
    if (o.strategies.includes('baseline'))
      for (const scope of scopes) jobs.push(backtest(scope, 'baseline', { kind: 'backtest', strategy: 'baseline', scope: scope.name, pairs: scope.pairs, from: scope.from, to: scope.to }));
    await Promise.all(jobs);
  } finally {
    await runner.close();
  }

  const periods: Record<string, Period[]> = {};
  for (const scope of scopes) {
    const candles = Object.fromEntries(scope.pairs.map((p) => [p, o.candles[p]!]));
    const times = decisionTimes(candles, scope.from, scope.to);
    const taker = (p: string): number => o.markets.find((m) => m.symbol === p)?.takerFee ?? 0;
    if (o.strategies.includes('buy-and-hold')) runs.push(buyAndHoldRun(scope.name, candles, times, o.initialUsd, taker));
    if (o.strategies.includes('cash')) runs.push(cashRun(scope.name, times, o.initialUsd));
    const { periods: ps, skipped } = researchPeriods(scope.from, times.at(-1) ?? scope.to, o.minYearDays ?? 30);
    periods[scope.name] = ps;
    for (const s of skipped) notes.push(`${scope.name}: ${s}`);
  }
  const scopeOrder = scopes.map((s) => s.name);
  runs.sort((a, b) => scopeOrder.indexOf(a.scope) - scopeOrder.indexOf(b.scope) || STRATEGIES.indexOf(a.strategy) - STRATEGIES.indexOf(b.strategy));
  reports.sort((a, b) => scopeOrder.indexOf(a.scope) - scopeOrder.indexOf(b.scope) || STRATEGIES.indexOf(a.strategy) - STRATEGIES.indexOf(b.strategy));
  const rows = researchRows(runs, (s) => periods[s] ?? []);
  return { scopes, periods, runs, rows, reports, notes, warmupBars, ml, backtests, threads, seconds: (performance.now() - t0) / 1000 };
}
