/**
 * The units of work of `aether research`, each runnable in this thread or in a worker thread (plain
 * data in, plain data out): a backtest of one scope through runBacktest — the live cycle's code — and
 * a stretch of the ML walk-forward signals.
 *
 * The ML strategy is computed once, not once per scope: walkForwardProvider's signal for a pair at a
 * decision time depends only on the candles closed by then (its model is fitted on every pair's
 * candles, as the train job pools the traded pairs), never on what an account holds. So the signals
 * are recorded over the all-pairs timeline — in stretches that start at a retrain, so they can run in
 * parallel and still equal one sequential pass — and every scope's ML backtest replays them.
 */
import { runBacktest } from '../cycle/backtest.ts';
import { backtestAccounts } from '../cycle/backtest-files.ts';
import { mlLookback, walkForwardProvider, DEFAULT_WALK_FORWARD_PROVIDER } from '../cycle/ml-provider.ts';
import { baselineProvider, type SignalProvider } from '../cycle/signals.ts';
import type { SlippageConfig } from '../exchange/sim-types.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import type { Signal } from '../strategy/signal.ts';
import type { BacktestReport } from '../cycle/backtest-report.ts';

export interface ResearchContext {
  candles: Record<string, Candle[]>; // every pair, ascending
  markets: MarketSpec[];
  initialUsd: number;
  slippage?: Partial<SlippageConfig>;
  retrainEveryBars: number;
  trainBars: number;
  /** The live nightly adaptation's schedule (stack.yml's train cron, UTC), as `aether backtest` runs it; null: settings stay fixed. */
  adaptationCron: string | null;
  /** Where the fee rates came from, for the reports. */
  feeSource: string;
}

/** A decision time of a backtest: the bars opening at `open`, decided at `now` (their latest close). */
export interface BarTime {
  open: number;
  now: number;
}

export type SignalEntry = [key: string, signal: Signal | null];

export type ResearchTask =
  | { kind: 'backtest'; strategy: 'baseline'; scope: string; pairs: string[]; from: number; to: number }
  | { kind: 'backtest'; strategy: 'ml'; scope: string; pairs: string[]; from: number; to: number; signals: SignalEntry[] }
  | { kind: 'ml-signals'; pairs: string[]; from: number; to: number; warmIndex: number | null; startIndex: number; endIndex: number };

export interface BacktestOutcome {
  kind: 'backtest';
  report: BacktestReport;
  equity: Array<{ ts: number; equityUsd: number; positionsUsd: number }>;
  trades: Array<{ time: number; pair: string; side: 'buy' | 'sell'; qty: number; price: number; feeUsd: number; reason: string }>;
  steps: number;
  ms: number;
}

export interface SignalsOutcome {
  kind: 'ml-signals';
  signals: SignalEntry[];
  /** Retrains due in this stretch (the warm-up retrain excluded): when, labelled rows, whether a model came out. */
  retrains: Array<{ asOf: number; rows: number; fitted: boolean }>;
  /** The warm-up retrain (at the previous stretch's last retrain) gave a model; null: no warm-up. */
  warmFitted: boolean | null;
  modelAtEnd: boolean;
  ms: number;
}

export type ResearchOutcome = BacktestOutcome | SignalsOutcome;

export const signalKey = (pair: string, asOf: number): string => `${pair}|${asOf}`;

/** The bars the strategies read before they can decide: the research window of a scope starts this many bars after its first candle. */
export const researchWarmupBars = (withMl: boolean): number =>
  Math.max(baselineProvider.lookback, withMl ? mlLookback(DEFAULT_WALK_FORWARD_PROVIDER.train.features) : 0);

/** runBacktest's decision times over `candles` (every pair's bar opens in [from, to], each decided at the latest close). */
export function barTimes(candles: Readonly<Record<string, readonly Candle[]>>, from: number, to: number): BarTime[] {
  const now = new Map<number, number>();
  for (const cs of Object.values(candles)) for (const c of cs) if (c.openTime >= from && c.openTime <= to) now.set(c.openTime, Math.max(now.get(c.openTime) ?? -Infinity, c.openTime + c.interval * 1000));
  return [...now.entries()].sort((a, b) => a[0] - b[0]).map(([open, n]) => ({ open, now: n }));
}

/** The indexes of `times` where walkForwardProvider retrains: the first decision, then the first one at least `every` bars later. */
export function retrainSchedule(times: readonly BarTime[], everyBars: number, intervalS: number): number[] {
  const out: number[] = [];
  let next = -Infinity;
  times.forEach((t, i) => {
    if (t.now >= next) {
      out.push(i);
      next = t.now + everyBars * intervalS * 1000;
    }
  });
  return out;
}

/** A provider answering with recorded signals; asking for one that was not recorded is a bug, not a null. */
export function replayProvider(entries: readonly SignalEntry[], lookback: number): SignalProvider {
  const recorded = new Map(entries);
  return {
    name: 'ml:walk-forward (recorded)',
    lookback,
    signal(history, asOf) {
      const pair = history[history.length - 1]?.pair ?? '?';
      const key = signalKey(pair, asOf);
      if (!recorded.has(key)) throw new Error(`no recorded ML signal for ${pair} at ${new Date(asOf).toISOString()}`);
      return recorded.get(key)!;
    },
  };
}

const pick = (ctx: ResearchContext, pairs: readonly string[]): Record<string, Candle[]> =>
  Object.fromEntries(pairs.map((p) => {
    const cs = ctx.candles[p];
    if (!cs) throw new Error(`no candles for ${p}`);
    return [p, cs];
  }));

/**
 * The candles as objects of one hidden class with double price fields, as runBacktest copies them
 * for its own loop: candles parsed from CSV (or cloned into a worker) mix small integers and doubles,
 * which makes every feature read polymorphic — the walk-forward signals ran ~2× slower on them.
 * Copied once per context and pair; the values are the same.
 */
const uniformCache = new WeakMap<ResearchContext, Map<string, Candle[]>>();
function uniformCandles(ctx: ResearchContext, pairs: readonly string[]): Record<string, Candle[]> {
  let cache = uniformCache.get(ctx);
  if (!cache) uniformCache.set(ctx, (cache = new Map()));
  const out: Record<string, Candle[]> = {};
  for (const [p, cs] of Object.entries(pick(ctx, pairs))) {
    let copy = cache.get(p);
    if (!copy) cache.set(p, (copy = cs.map(uniformCandle)));
    out[p] = copy;
  }
  return out;
}
const uniformCandle = (c: Candle): Candle => ({ pair: c.pair, interval: c.interval, openTime: c.openTime, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
uniformCandle({ pair: '', interval: 0.5, openTime: 0.5, open: 0.5, high: 0.5, low: 0.5, close: 0.5, volume: 0.5 }); // the first shape has double fields

export async function runResearchTask(ctx: ResearchContext, task: ResearchTask): Promise<ResearchOutcome> {
  const t0 = performance.now();
  if (task.kind === 'ml-signals') return { ...recordMlSignals(ctx, task), ms: performance.now() - t0 };
  const candles = pick(ctx, task.pairs);
  const signals = task.strategy === 'baseline' ? baselineProvider : replayProvider(task.signals, mlLookback(DEFAULT_WALK_FORWARD_PROVIDER.train.features));
  const accounts = backtestAccounts([{ id: 'research' }], [...task.pairs].sort(), ctx.initialUsd);
  const r = await runBacktest({
    candles,
    markets: ctx.markets,
    feeSource: ctx.feeSource,
    adaptation: ctx.adaptationCron ? { cron: ctx.adaptationCron } : null,
    accounts,
    signals,
    from: task.from,
    to: task.to,
    ...(ctx.slippage ? { slippage: ctx.slippage } : {}),
  });
  return {
    kind: 'backtest',
    report: r.report,
    // Only what the table reads crosses the thread boundary.
    equity: r.equity.map((e) => ({ ts: e.ts, equityUsd: e.equityUsd, positionsUsd: e.positionsUsd })),
    trades: r.trades.map((t) => ({ time: t.time, pair: t.pair, side: t.side, qty: t.qty, price: t.price, feeUsd: t.feeUsd, reason: t.reason })),
    steps: r.steps,
    ms: performance.now() - t0,
  };
}

/**
 * The walk-forward signals of decision times [startIndex, endIndex) of the all-pairs timeline,
 * computed as runBacktest would ask for them: the same growing histories, the same `now`, every
 * pair with a bar at that time scored. A stretch starts at a retrain; its provider first retrains
 * at the previous retrain (warmIndex) so that, if the retrain at startIndex finds too few rows, the
 * model in force is the one a sequential pass would still hold.
 */
function recordMlSignals(ctx: ResearchContext, task: Extract<ResearchTask, { kind: 'ml-signals' }>): Omit<SignalsOutcome, 'ms'> {
  const pairs = [...task.pairs].sort();
  const candles = uniformCandles(ctx, pairs);
  const times = barTimes(candles, task.from, task.to);
  const retrains: SignalsOutcome['retrains'] = [];
  const attempts: Array<{ asOf: number; rows: number }> = [];
  const provider = walkForwardProvider({
    retrainEveryBars: ctx.retrainEveryBars,
    trainBars: ctx.trainBars,
    onTrain: (asOf, _c, rows) => void attempts.push({ asOf, rows }),
  });
  const history: Record<string, Candle[]> = Object.fromEntries(pairs.map((p) => [p, []]));
  const cursor: Record<string, number> = Object.fromEntries(pairs.map((p) => [p, 0]));
  const first = times[0]?.open ?? Infinity;
  for (const p of pairs) {
    const cs = candles[p]!;
    while (cursor[p]! < cs.length && cs[cursor[p]!]!.openTime < first) history[p]!.push(cs[cursor[p]!++]!);
  }
  const signals: SignalEntry[] = [];
  let warmFitted: boolean | null = null;
  for (let i = 0; i < task.endIndex && i < times.length; i++) {
    const { open, now } = times[i]!;
    const fresh: string[] = [];
    for (const p of pairs) {
      const c = candles[p]![cursor[p]!];
      if (!c || c.openTime !== open) continue;
      cursor[p]!++;
      history[p]!.push(c);
      fresh.push(p);
    }
    if (i === task.warmIndex) {
      const before = provider.retrains();
      provider.signal(history[fresh[0]!]!, now, history); // retrains here; the signal itself belongs to the previous stretch
      warmFitted = provider.retrains() > before;
      continue;
    }
    if (i < task.startIndex) continue;
    for (const p of fresh) {
      const [fits, tries] = [provider.retrains(), attempts.length];
      const s = provider.signal(history[p]!, now, history);
      if (attempts.length > tries) retrains.push({ ...attempts[tries]!, fitted: provider.retrains() > fits });
      signals.push([signalKey(p, now), s]);
    }
  }
  return { kind: 'ml-signals', signals, retrains, warmFitted, modelAtEnd: provider.retrains() > 0 };
}
