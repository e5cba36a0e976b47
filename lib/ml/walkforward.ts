import type { Candle } from '../market/candle.ts';
import { emaCrossoverPositions } from './baseline.ts';
import { buildRows, type CandlesByPair, type Row } from './dataset.ts';
import { backtestPositions, positionsFromProbs } from './metrics.ts';
import { DEFAULT_TRAIN_OPTIONS, fitClassifier, type TrainOptions } from './train.ts';

export interface WalkForwardOptions extends TrainOptions {
  /** Retrain every this many bars of the pairs' interval. */
  retrainEveryBars: number;
  /** First retrain after this many bars from the earliest candle. */
  minTrainBars: number;
  ema: [number, number];
}

export const DEFAULT_WALK_FORWARD_OPTIONS: WalkForwardOptions = { ...DEFAULT_TRAIN_OPTIONS, retrainEveryBars: 720, minTrainBars: 4320, ema: [24, 96] };

export interface WalkForwardPair {
  pair: string;
  from: number;
  to: number;
  bars: number;
  strategy: number;
  trades: number;
  exposure: number;
  buyHold: number;
  emaCrossover: number;
  emaTrades: number;
}

export interface WalkForwardResult {
  retrains: { at: number; trainRows: number }[];
  perPair: WalkForwardPair[];
  /** Equal-weight means over pairs. */
  mean: { strategy: number; buyHold: number; emaCrossover: number };
  predictions: { pair: string; time: number; p: number }[];
}

/**
 * Walk-forward backtest: at each retrain time s (a fixed grid from the earliest candle, so it does not
 * depend on where the data ends) fit on rows whose label is known by s, then score the rows decided
 * in [s, next s). The position taken at a row's decision time earns the next bar's return.
 */
export function walkForwardBacktest(candlesByPair: CandlesByPair, options: Partial<WalkForwardOptions> = {}): WalkForwardResult {
  const opts = { ...DEFAULT_WALK_FORWARD_OPTIONS, ...options };
  const rows = buildRows(candlesByPair, opts.label, opts.features);
  const all = Object.values(candlesByPair).flat();
  if (all.length === 0 || rows.length === 0) throw new Error('walk-forward needs candles with warm features');
  const interval = (all[0] as Candle).interval * 1000;
  const t0 = Math.min(...Object.values(candlesByPair).map((c) => c[0]?.openTime ?? Infinity));
  const step = opts.retrainEveryBars * interval;
  const first = t0 + opts.minTrainBars * interval;
  const lastDecision = rows[rows.length - 1]!.decisionTime;
  const retrains: WalkForwardResult['retrains'] = [];
  const scored: { row: Row; p: number }[] = [];
  for (let s = first; s <= lastDecision; s += step) {
    const trainRows = rows.filter((r) => r.y !== null && r.labelEnd <= s);
    const clf = fitClassifier(trainRows, opts.model);
    retrains.push({ at: s, trainRows: trainRows.length });
    for (const r of rows) if (r.decisionTime >= s && r.decisionTime < s + step) scored.push({ row: r, p: clf.predictProba(r.x) });
  }
  const perPair: WalkForwardPair[] = [];
  for (const [pair, candles] of Object.entries(candlesByPair)) {
    const mine = scored.filter((e) => e.row.pair === pair && Number.isFinite(e.row.nextReturn));
    if (mine.length === 0) continue;
    const pos = positionsFromProbs(mine.map((e) => e.p), opts.threshold, opts.exitThreshold ?? opts.threshold);
    const ret = mine.map((e) => e.row.nextReturn);
    const strat = backtestPositions(pos, ret, opts.label.feeRate);
    const emaAll = emaCrossoverPositions(candles, opts.ema[0], opts.ema[1]);
    const indexOf = new Map(candles.map((c, i) => [c.openTime, i]));
    const emaPos = mine.map((e) => emaAll[indexOf.get(e.row.time) as number] as number);
    const ema = backtestPositions(emaPos, ret, opts.label.feeRate);
    perPair.push({
      pair,
      from: mine[0]!.row.time,
      to: mine[mine.length - 1]!.row.time,
      bars: mine.length,
      strategy: strat.totalReturn,
      trades: strat.trades,
      exposure: strat.exposure,
      buyHold: strat.buyHoldReturn,
      emaCrossover: ema.totalReturn,
      emaTrades: ema.trades,
    });
  }
  const m = (k: 'strategy' | 'buyHold' | 'emaCrossover'): number => perPair.reduce((a, b) => a + b[k], 0) / perPair.length;
  return {
    retrains,
    perPair,
    mean: { strategy: m('strategy'), buyHold: m('buyHold'), emaCrossover: m('emaCrossover') },
    predictions: scored.map((e) => ({ pair: e.row.pair, time: e.row.time, p: e.p })),
  };
}
