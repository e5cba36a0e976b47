import { z } from 'zod';
import type { ModelKind } from './models/index.ts';
import type { TrainedModel } from './trained.ts';
import type { CvSummary, FoldResult } from './train.ts';

/** Probabilistic scores of one model on one set of labelled rows. */
export interface HoldoutScores {
  logLoss: number;
  brier: number;
  auc: number;
}

/** Net returns after costs of the live cycle's backtest (runBacktest) over the evaluation window. */
export interface SimulationFigures {
  /** Decision times simulated (the evaluation window, up to the newest closed bar). */
  window: { from: number; to: number };
  /** The accounts whose settings were simulated (slugs), or 'defaults' (no account: schema defaults). */
  accounts: string[];
  challenger: number;
  /** The champion's frozen weights (the comparator), when there is one. */
  champion: number | null;
  baseline: number;
  buyHold: number;
  challengerTrades: number;
  baselineTrades: number;
}

/**
 * The challenger against the champion's frozen weights on rows neither learned: the challenger was
 * fitted on rows whose labels were known before `window.from`, the comparator (the champion, or the
 * ancestor of its online updates that had not yet learned the window) likewise.
 */
export interface HoldoutComparison {
  /** Decision times of the evaluation rows. */
  window: { from: number; to: number };
  rows: number;
  positiveRate: number;
  challenger: HoldoutScores;
  /** A constant prediction of the challenger's training positive rate. */
  baseRate: HoldoutScores;
  /** The live champion when the comparison was made (null: none yet). */
  champion: string | null;
  /** Whose frozen weights were scored: the champion or its ancestor; null when there is no champion. */
  comparator: { version: string; trainedThrough: number; scores: HoldoutScores; sameSpec: boolean; sameLabel: boolean } | null;
  simulation: SimulationFigures;
}

/**
 * What a record is judged and monitored by. The top-level figures are the spec's purged walk-forward
 * CV on the rows before the evaluation window (its edge over a constant); `holdout` is the comparison
 * on the window after it (absent on records from before migration 0013).
 */
export interface ModelMetrics {
  /** First test-block start and last test-block end of the CV that produced these numbers. */
  window: { from: number; to: number };
  auc: number;
  logLoss: number;
  brier: number;
  /** Net-of-fees return of the long/flat signal over the evaluation folds. */
  netReturn: number;
  buyHoldReturn: number;
  folds: number;
  /** Log-loss of always predicting the training folds' positive rate: a model must beat it to trade. */
  baseRateLogLoss?: number;
  holdout?: HoldoutComparison;
}

export type ModelStatus = 'champion' | 'challenger' | 'retired';

/** One row of the model registry (the database part stores it as-is; `model` is TrainedModel.toJSON()). */
export interface ModelRecord {
  version: string;
  kind: ModelKind;
  params: Record<string, unknown>;
  featureSetHash: string;
  dataWindow: { from: number; to: number; pairs: string[]; rows: number };
  metrics: ModelMetrics;
  model: unknown;
  status: ModelStatus;
  /** When the weights were last changed (full fit or online update), epoch ms from the caller's Clock. */
  trainedAt: number;
  /** The data cursor: the newest label end among the rows learned. Rows decided from then on are unseen. */
  trainedThrough: number;
  /** The full fit this version descends from by online updates (its own version for a full fit). */
  lineage: string;
}

// A score that was NaN (AUC of a window holding one class of another label's rows) is stored as null by
// JSON and read back as the NaN it was: a record must stay readable whatever its comparator scored.
const score = z.number().or(z.null().transform(() => NaN));
const scoresSchema = z.object({ logLoss: score, brier: score, auc: score });
const holdoutSchema = z.object({
  window: z.object({ from: z.number(), to: z.number() }),
  rows: z.number().int().nonnegative(),
  positiveRate: z.number(),
  challenger: scoresSchema,
  baseRate: scoresSchema,
  champion: z.string().nullable(),
  comparator: z.object({ version: z.string(), trainedThrough: z.number(), scores: scoresSchema, sameSpec: z.boolean(), sameLabel: z.boolean() }).nullable(),
  simulation: z.object({
    window: z.object({ from: z.number(), to: z.number() }),
    accounts: z.array(z.string()),
    challenger: z.number(),
    champion: z.number().nullable(),
    baseline: z.number(),
    buyHold: z.number(),
    challengerTrades: z.number().int().nonnegative(),
    baselineTrades: z.number().int().nonnegative(),
  }),
}) satisfies z.ZodType<HoldoutComparison>;

export const modelMetricsSchema = z.object({
  window: z.object({ from: z.number(), to: z.number() }),
  auc: z.number(),
  logLoss: z.number(),
  brier: z.number(),
  netReturn: z.number(),
  buyHoldReturn: z.number(),
  folds: z.number().int().nonnegative(),
  baseRateLogLoss: z.number().optional(),
  holdout: holdoutSchema.optional(),
}) satisfies z.ZodType<ModelMetrics>;

/** Validates a record read back from storage (numbers that were NaN come back as null from JSON: refused). */
export const modelRecordSchema = z.object({
  version: z.string().min(1),
  kind: z.enum(['logistic', 'gbt']),
  params: z.record(z.string(), z.unknown()),
  featureSetHash: z.string().regex(/^[0-9a-f]{64}$/),
  dataWindow: z.object({ from: z.number(), to: z.number(), pairs: z.array(z.string()), rows: z.number().int().nonnegative() }),
  metrics: modelMetricsSchema,
  model: z.unknown(),
  status: z.enum(['champion', 'challenger', 'retired']),
  trainedAt: z.number(),
  trainedThrough: z.number(),
  lineage: z.string().min(1),
}) satisfies z.ZodType<ModelRecord>;

export interface PromotionMargin {
  /** Log-loss a challenger of another spec must gain over the champion (and every challenger over the base rate). */
  logLoss: number;
  /** Log-loss a same-spec refresh (the champion's configuration on newer data) may lose and still be promoted: "not worse". */
  refreshTolerance: number;
}

export const DEFAULT_PROMOTION_MARGIN: PromotionMargin = { logLoss: 0.002, refreshTolerance: 0.002 };

export type PromotionDecision = { promote: true; reason: string } | { promote: false; reason: string };

const f4 = (x: number): string => x.toFixed(4);
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/**
 * The promotion rule (pure). Every condition must hold; a refusal names each one that failed:
 *  1. the spec has an edge over a constant: its walk-forward CV log-loss beats the base rate by the margin;
 *  2. on the held-out window it still beats a constant (the CV's margin is not asked again of a window this short);
 *  3. the live cycle simulated over the window with its frozen weights makes money after costs, and more than the baseline strategy;
 *  4. against the champion's frozen weights on the same unseen rows: a different spec must be better by
 *     `margin.logLoss`, a same-spec refresh no worse than `margin.refreshTolerance`. Models with another
 *     label (horizon, fee) predict another target: their log-losses do not compare, the simulated returns do.
 */
export function shouldPromote(cv: ModelMetrics, h: HoldoutComparison, margin: PromotionMargin = DEFAULT_PROMOTION_MARGIN): PromotionDecision {
  const cvComplete = [cv.logLoss, cv.brier].every(Number.isFinite) && cv.folds >= 1;
  const hoComplete = h.rows > 0 && [h.challenger.logLoss, h.challenger.brier, h.baseRate.logLoss].every(Number.isFinite);
  if (!cvComplete || !hoComplete) return { promote: false, reason: 'challenger has no complete out-of-sample metrics' };
  const failed: string[] = [];
  if (cv.baseRateLogLoss !== undefined && !(cv.baseRateLogLoss - cv.logLoss >= margin.logLoss))
    failed.push(`log-loss ${f4(cv.logLoss)} does not beat the base-rate prediction ${f4(cv.baseRateLogLoss)} by ${margin.logLoss} (walk-forward CV)`);
  if (!(h.challenger.logLoss < h.baseRate.logLoss)) failed.push(`held-out log-loss ${f4(h.challenger.logLoss)} does not beat the base-rate prediction ${f4(h.baseRate.logLoss)}`);
  const s = h.simulation;
  if (!(s.challenger > 0)) failed.push(`simulated net return ${pct(s.challenger)} after costs is not positive`);
  if (!(s.challenger > s.baseline)) failed.push(`simulated net return ${pct(s.challenger)} does not beat the baseline's ${pct(s.baseline)}`);
  const c = h.comparator;
  let versus = 'no champion yet';
  if (c) {
    if (c.sameLabel) {
      const gain = c.scores.logLoss - h.challenger.logLoss;
      const need = c.sameSpec ? -margin.refreshTolerance : margin.logLoss;
      versus = `${c.sameSpec ? 'same-spec refresh' : 'new spec'}: held-out log-loss ${f4(h.challenger.logLoss)} vs ${c.version}'s frozen ${f4(c.scores.logLoss)}`;
      if (!(gain >= need))
        failed.push(c.sameSpec ? `same-spec refresh is worse: ${versus} (tolerance ${margin.refreshTolerance})` : `${versus}: not lower by ${margin.logLoss}`);
    } else {
      versus = `another label: simulated ${pct(s.challenger)} vs ${c.version}'s frozen ${s.champion === null ? '-' : pct(s.champion)}`;
      if (!(s.champion !== null && s.challenger > s.champion)) failed.push(`${versus}: not better`);
    }
  }
  if (failed.length) return { promote: false, reason: failed.join('; ') };
  return { promote: true, reason: `${versus}; simulated ${pct(s.challenger)} vs baseline ${pct(s.baseline)} over ${h.rows} held-out rows` };
}

/** The CV figures of a training run as the record's metrics (the holdout comparison is added by the caller). */
export function cvMetrics(metrics: CvSummary, folds: readonly FoldResult[]): ModelMetrics {
  return {
    window: { from: folds[0]?.testFrom ?? NaN, to: folds[folds.length - 1]?.testTo ?? NaN },
    auc: metrics.auc,
    logLoss: metrics.logLoss,
    brier: metrics.brier,
    netReturn: metrics.strategyReturn,
    buyHoldReturn: metrics.buyHoldReturn,
    folds: metrics.folds,
    baseRateLogLoss: metrics.baseRateLogLoss,
  };
}

/**
 * A challenger record from a fitted model; the caller supplies version, time (from its Clock), the
 * data cursor and the metrics. A full fit starts its own lineage.
 */
export function challengerRecord(model: TrainedModel, meta: { version: string; trainedAt: number; trainedThrough: number; metrics: ModelMetrics }): ModelRecord {
  const clf = model.classifier.toJSON();
  return {
    version: meta.version,
    kind: model.kind,
    params: { ...clf.params, horizonBars: model.data.horizonBars, feeRate: model.data.feeRate },
    featureSetHash: model.data.featureSetHash,
    dataWindow: { from: model.data.window.from, to: model.data.window.to, pairs: model.data.window.pairs, rows: model.data.window.rows },
    metrics: meta.metrics,
    model: model.toJSON(),
    status: 'challenger',
    trainedAt: meta.trainedAt,
    trainedThrough: meta.trainedThrough,
    lineage: meta.version,
  };
}
