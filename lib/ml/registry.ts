import { z } from 'zod';
import type { ModelKind } from './models/index.ts';
import type { TrainedModel } from './trained.ts';
import type { CvSummary, FoldResult } from './train.ts';

/**
 * Out-of-sample metrics a promotion is judged on (walk-forward CV means). Two records are only
 * comparable on the same evaluation window: to judge a challenger, re-run the champion's spec through
 * crossValidate on the challenger's rows (its stored metrics come from an older window).
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
  trainedAt: number; // epoch ms from the caller's Clock
}

/** Validates a record read back from storage (numbers that were NaN come back as null from JSON: refused). */
export const modelRecordSchema = z.object({
  version: z.string().min(1),
  kind: z.enum(['logistic', 'gbt']),
  params: z.record(z.string(), z.unknown()),
  featureSetHash: z.string().regex(/^[0-9a-f]{64}$/),
  dataWindow: z.object({ from: z.number(), to: z.number(), pairs: z.array(z.string()), rows: z.number().int().nonnegative() }),
  metrics: z.object({
    window: z.object({ from: z.number(), to: z.number() }),
    auc: z.number(),
    logLoss: z.number(),
    brier: z.number(),
    netReturn: z.number(),
    buyHoldReturn: z.number(),
    folds: z.number().int().nonnegative(),
    baseRateLogLoss: z.number().optional(),
  }),
  model: z.unknown(),
  status: z.enum(['champion', 'challenger', 'retired']),
  trainedAt: z.number(),
}) satisfies z.ZodType<ModelRecord>;

export interface PromotionMargin {
  /** The challenger's log-loss must be lower by at least this much. */
  logLoss: number;
  /** Its net return may not be worse than the champion's by more than this (0 = not worse). */
  netReturnTolerance: number;
}

export const DEFAULT_PROMOTION_MARGIN: PromotionMargin = { logLoss: 0.002, netReturnTolerance: 0 };

export type PromotionDecision = { promote: true; reason: string } | { promote: false; reason: string };

/** A challenger replaces the champion only when it is better out of sample by the margin, on the same features. */
export function shouldPromote(champion: ModelRecord | null, challenger: ModelRecord, margin: PromotionMargin = DEFAULT_PROMOTION_MARGIN): PromotionDecision {
  const c = challenger.metrics;
  const finite = [c.logLoss, c.netReturn, c.brier].every(Number.isFinite);
  if (!finite || c.folds < 1) return { promote: false, reason: 'challenger has no complete out-of-sample metrics' };
  // Worse than a constant guess means no edge: the baseline strategy stays in force instead.
  if (c.baseRateLogLoss !== undefined && !(c.baseRateLogLoss - c.logLoss >= margin.logLoss))
    return { promote: false, reason: `log-loss ${c.logLoss.toFixed(4)} does not beat the base-rate prediction ${c.baseRateLogLoss.toFixed(4)} by ${margin.logLoss}` };
  if (!champion) return { promote: true, reason: 'no champion yet' };
  const h = champion.metrics;
  if (challenger.version === champion.version) return { promote: false, reason: 'challenger is the champion' };
  if (h.window.from !== c.window.from || h.window.to !== c.window.to) return { promote: false, reason: 'metrics come from different evaluation windows: re-evaluate the champion on the challenger\'s folds' };
  const llGain = h.logLoss - c.logLoss;
  if (!(llGain >= margin.logLoss)) return { promote: false, reason: `log-loss ${c.logLoss.toFixed(4)} not lower than champion ${h.logLoss.toFixed(4)} by ${margin.logLoss}` };
  if (c.netReturn < h.netReturn - margin.netReturnTolerance) return { promote: false, reason: `net return ${c.netReturn.toFixed(4)} worse than champion ${h.netReturn.toFixed(4)}` };
  return { promote: true, reason: `log-loss better by ${llGain.toFixed(4)}, net return ${c.netReturn.toFixed(4)} vs ${h.netReturn.toFixed(4)}` };
}

/** A challenger record from a training run; the caller supplies version and time (from its Clock). */
export function challengerRecord(
  trained: { model: TrainedModel; metrics: CvSummary; folds: readonly FoldResult[] },
  meta: { version: string; trainedAt: number },
): ModelRecord {
  const m = trained.model;
  const clf = m.classifier.toJSON();
  return {
    version: meta.version,
    kind: m.kind,
    params: { ...clf.params, horizonBars: m.data.horizonBars, feeRate: m.data.feeRate },
    featureSetHash: m.data.featureSetHash,
    dataWindow: { from: m.data.window.from, to: m.data.window.to, pairs: m.data.window.pairs, rows: m.data.window.rows },
    metrics: {
      window: { from: trained.folds[0]?.testFrom ?? NaN, to: trained.folds[trained.folds.length - 1]?.testTo ?? NaN },
      auc: trained.metrics.auc,
      logLoss: trained.metrics.logLoss,
      brier: trained.metrics.brier,
      netReturn: trained.metrics.strategyReturn,
      buyHoldReturn: trained.metrics.buyHoldReturn,
      folds: trained.metrics.folds,
      baseRateLogLoss: trained.metrics.baseRateLogLoss,
    },
    model: m.toJSON(),
    status: 'challenger',
    trainedAt: meta.trainedAt,
  };
}
