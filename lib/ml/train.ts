import { purgedFolds, type FoldOptions } from './cv.ts';
import { buildRows, type CandlesByPair, type Row } from './dataset.ts';
import { driftReference } from './drift.ts';
import { DEFAULT_FEATURE_PARAMS, featureNames, featureSetHash, type FeatureParams } from './features.ts';
import { DEFAULT_LABEL_OPTIONS, type LabelOptions } from './labels.ts';
import { auc, backtestSignal, brier, logLoss } from './metrics.ts';
import { GbtModel, LogisticModel, type Classifier, type ModelSpec } from './models/index.ts';
import { DEFAULT_GBT_PARAMS } from './models/gbt.ts';
import { DEFAULT_LOGISTIC_PARAMS } from './models/logistic.ts';
import { TrainedModel } from './trained.ts';

export interface TrainOptions {
  model: ModelSpec;
  label: LabelOptions;
  features: FeatureParams;
  cv: FoldOptions | null; // null: fit only
  /** Long when p > threshold in the backtests… */
  threshold: number;
  /** …and, when set, stay long until p <= exitThreshold (hysteresis). Unset: exit at threshold. */
  exitThreshold?: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  model: { kind: 'gbt' },
  label: DEFAULT_LABEL_OPTIONS,
  features: DEFAULT_FEATURE_PARAMS,
  cv: { folds: 5, initialTrainFraction: 0.4, embargoMs: 24 * 3_600_000, trainSide: 'past' },
  threshold: 0.55,
};

export interface PairBacktest {
  pair: string;
  strategy: number;
  buyHold: number;
  trades: number;
  exposure: number;
  bars: number;
}

export interface FoldResult {
  fold: number;
  testFrom: number;
  testTo: number;
  trainRows: number;
  testRows: number;
  purged: number;
  embargoed: number;
  positiveRate: number;
  auc: number;
  logLoss: number;
  brier: number;
  /** The same scores for a constant prediction of the training base rate: the bar a model must clear. */
  baseRateLogLoss: number;
  baseRateBrier: number;
  /** Equal-weight mean over pairs of the net long/flat return, and of buy-and-hold, in the test block. */
  strategyReturn: number;
  buyHoldReturn: number;
  perPair: PairBacktest[];
}

export interface CvSummary {
  folds: number;
  auc: number;
  logLoss: number;
  brier: number;
  baseRateLogLoss: number;
  baseRateBrier: number;
  strategyReturn: number; // compounded over folds
  buyHoldReturn: number;
}

export function fitClassifier(rows: readonly Row[], spec: ModelSpec): Classifier {
  const X = rows.map((r) => r.x);
  const y = rows.map((r) => r.y as number);
  if (new Set(y).size < 2) throw new Error(`cannot fit on ${rows.length} rows holding a single class`);
  return spec.kind === 'logistic' ? LogisticModel.fit(X, y, { ...DEFAULT_LOGISTIC_PARAMS, ...spec.params }) : GbtModel.fit(X, y, { ...DEFAULT_GBT_PARAMS, ...spec.params });
}

/** Per-pair long/flat backtest over rows (time-ordered) with their probabilities. */
export function backtestRows(rows: readonly Row[], probs: readonly number[], threshold: number, feeRate: number, exitThreshold = threshold): PairBacktest[] {
  const byPair = new Map<string, { p: number[]; r: number[] }>();
  rows.forEach((row, i) => {
    if (!Number.isFinite(row.nextReturn)) return;
    const e = byPair.get(row.pair) ?? { p: [], r: [] };
    e.p.push(probs[i] as number);
    e.r.push(row.nextReturn);
    byPair.set(row.pair, e);
  });
  return [...byPair.entries()].map(([pair, { p, r }]) => {
    const b = backtestSignal(p, r, threshold, feeRate, exitThreshold);
    return { pair, strategy: b.totalReturn, buyHold: b.buyHoldReturn, trades: b.trades, exposure: b.exposure, bars: b.bars };
  });
}

const avg = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export function crossValidate(rows: readonly Row[], opts: TrainOptions): FoldResult[] {
  if (!opts.cv) return [];
  const labelled = rows.filter((r) => r.y !== null);
  return purgedFolds(labelled, opts.cv).map((f, k) => {
    const train = f.train.map((i) => labelled[i] as Row);
    const test = f.test.map((i) => labelled[i] as Row);
    const clf = fitClassifier(train, opts.model);
    const p = test.map((r) => clf.predictProba(r.x));
    const y = test.map((r) => r.y as number);
    const perPair = backtestRows(test, p, opts.threshold, opts.label.feeRate, opts.exitThreshold ?? opts.threshold);
    const baseRate = avg(train.map((r) => r.y as number));
    const constant = test.map(() => baseRate);
    return {
      fold: k,
      testFrom: f.testStart,
      testTo: f.testEnd,
      trainRows: train.length,
      testRows: test.length,
      purged: f.purged,
      embargoed: f.embargoed,
      positiveRate: avg(y),
      auc: auc(p, y),
      logLoss: logLoss(p, y),
      brier: brier(p, y),
      baseRateLogLoss: logLoss(constant, y),
      baseRateBrier: brier(constant, y),
      strategyReturn: avg(perPair.map((b) => b.strategy)),
      buyHoldReturn: avg(perPair.map((b) => b.buyHold)),
      perPair,
    };
  });
}

export function summarize(folds: readonly FoldResult[]): CvSummary {
  return {
    folds: folds.length,
    auc: avg(folds.map((f) => f.auc)),
    logLoss: avg(folds.map((f) => f.logLoss)),
    brier: avg(folds.map((f) => f.brier)),
    baseRateLogLoss: avg(folds.map((f) => f.baseRateLogLoss)),
    baseRateBrier: avg(folds.map((f) => f.baseRateBrier)),
    strategyReturn: folds.reduce((eq, f) => eq * (1 + f.strategyReturn), 1) - 1,
    buyHoldReturn: folds.reduce((eq, f) => eq * (1 + f.buyHoldReturn), 1) - 1,
  };
}

/** Fits the final model on every labelled row; `referenceBrier` (out-of-sample when known) anchors drift checks. */
export function fitTrainedModel(rows: readonly Row[], opts: TrainOptions, referenceBrier?: number): TrainedModel {
  const labelled = rows.filter((r) => r.y !== null);
  const clf = fitClassifier(labelled, opts.model);
  const names = featureNames(opts.features);
  const pos = labelled.filter((r) => r.y === 1).map((r) => r.grossReturn);
  const neg = labelled.filter((r) => r.y === 0).map((r) => r.grossReturn);
  const inSample = brier(labelled.map((r) => clf.predictProba(r.x)), labelled.map((r) => r.y as number));
  return new TrainedModel(clf, {
    featureNames: names,
    featureSetHash: featureSetHash(opts.features),
    featureParams: opts.features,
    horizonBars: opts.label.horizonBars,
    feeRate: opts.label.feeRate,
    meanReturn: { pos: avg(pos), neg: avg(neg) },
    reference: driftReference(names, labelled.map((r) => r.x), referenceBrier ?? inSample),
    window: { from: labelled[0]?.time ?? NaN, to: labelled[labelled.length - 1]?.time ?? NaN, rows: labelled.length, pairs: [...new Set(labelled.map((r) => r.pair))].sort() },
  });
}

/** Cross-validates, then fits the model to every labelled row. */
export function train(candlesByPair: CandlesByPair, options: Partial<TrainOptions> = {}): { model: TrainedModel; metrics: CvSummary; folds: FoldResult[] } {
  const opts = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const rows = buildRows(candlesByPair, opts.label, opts.features);
  const folds = crossValidate(rows, opts);
  const metrics = summarize(folds);
  const model = fitTrainedModel(rows, opts, folds.length ? metrics.brier : undefined);
  return { model, metrics, folds };
}
