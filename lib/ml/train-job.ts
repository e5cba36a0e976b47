import { and, desc, gte, inArray, not, like } from 'drizzle-orm';
import { signals } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import type { Candle } from '../market/candle.ts';
import { loadCandles } from '../market/store.ts';
import { purgedFolds, type FoldOptions } from './cv.ts';
import { buildRows, type CandlesByPair, type Row } from './dataset.ts';
import { DEFAULT_DRIFT_THRESHOLDS, assessDrift, type DriftReport, type DriftThresholds } from './drift.ts';
import { BTC_PAIR } from './features.ts';
import { forwardLabels } from './labels.ts';
import type { ModelSpec } from './models/index.ts';
import { DEFAULT_ONLINE_UPDATE, onlineUpdate, type OnlineUpdateOptions } from './online.ts';
import { DEFAULT_PROMOTION_MARGIN, challengerRecord, type ModelMetrics, type ModelRecord, type PromotionMargin } from './registry.ts';
import { finishTrainingRun, loadChampion, registerChallenger, replaceChampion, startTrainingRun, trainedModelOf, type TrainTrigger } from './registry-store.ts';
import { DEFAULT_TRAIN_OPTIONS, crossValidate, fitTrainedModel, summarize, type FoldResult, type TrainOptions } from './train.ts';

/**
 * The training loop against the database (I/O; not part of the pure core): stored candles → train →
 * challenger → compare with the champion on the same folds → promote or refuse; online updates of
 * the champion between full retrains; the drift check that triggers a `drift` retrain.
 */
export interface TrainJobOptions {
  interval: number;
  /** Newest stored bars per pair to learn from. */
  maxBars: number;
  train: Partial<TrainOptions>;
  margin: PromotionMargin;
  drift: DriftThresholds;
  /** Signals and feature rows the drift check looks back over (bars). */
  driftWindowBars: number;
  /** A scheduled run does a full retrain when the champion's fit is at least this old, else an online update. */
  fullRetrainEveryMs: number;
  online: OnlineUpdateOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_TRAIN_JOB: TrainJobOptions = {
  interval: 3600,
  maxBars: 8760,
  train: {},
  margin: DEFAULT_PROMOTION_MARGIN,
  drift: DEFAULT_DRIFT_THRESHOLDS,
  driftWindowBars: 720,
  // Daily, as the cron: a run an hour early still retrains in full.
  fullRetrainEveryMs: 23 * 3_600_000,
  online: DEFAULT_ONLINE_UPDATE,
};

export interface TrainingSummary {
  /** The training_runs row; null when there was nothing to train on (no run was started). */
  run: string | null;
  trigger: TrainTrigger;
  kind: 'full' | 'online' | 'none';
  pairs: string[];
  rows: number;
  folds: number;
  version: string | null;
  metrics: ModelMetrics | null;
  championMetrics: ModelMetrics | null;
  promoted: boolean;
  reason: string;
  drift: DriftReport | null;
}

const plain = (c: Candle): Candle => ({ pair: c.pair, interval: c.interval, openTime: c.openTime, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });

const NO_BTC = 'no stored BTC/USD candles: the cross-asset features need them (run aether backfill)';

/** The newest `maxBars` closed candles of each pair and of BTC/USD, those stored (none on a fresh install). */
async function storedCandles(db: Db, pairs: readonly string[], interval: number, maxBars: number, now: number): Promise<Record<string, Candle[]>> {
  const out: Record<string, Candle[]> = {};
  for (const p of [...new Set([...pairs, BTC_PAIR])].sort()) {
    // `to` is exclusive on open time: only bars closed by `now`.
    const cs = await loadCandles(db, p, interval, { to: now - interval * 1000 + 1, limit: maxBars });
    if (cs.length) out[p] = cs.map(plain);
  }
  return out;
}

/** The newest `maxBars` closed candles of each pair (BTC/USD too: the cross-asset features need it). */
export async function trainingCandles(db: Db, pairs: readonly string[], interval: number, maxBars: number, now: number): Promise<Record<string, Candle[]>> {
  const out = await storedCandles(db, pairs, interval, maxBars, now);
  if (!out[BTC_PAIR] && Object.keys(out).length) throw new Error(NO_BTC);
  return out;
}

/**
 * Why the stored history cannot be cross-validated yet, or null when it can. A fresh install has no
 * candles and a young one too few to make every fold, or folds whose training side holds a single
 * class: that is nothing to do yet, not a failure.
 */
function historyShortfall(rows: readonly Row[], cv: FoldOptions): string | null {
  const labelled = rows.filter((r) => r.y !== null);
  const short = `too little history to cross-validate: ${labelled.length} labelled rows`;
  const times = new Set(labelled.map((r) => r.time)).size;
  const testable = times - (cv.trainSide === 'past' ? Math.floor(times * cv.initialTrainFraction) : 0);
  if (testable < Math.max(cv.folds, 1)) return short;
  const oneClass = (idx: readonly number[]): boolean => new Set(idx.map((i) => labelled[i]!.y)).size < 2;
  return purgedFolds(labelled, cv).some((f) => f.test.length === 0 || oneClass(f.train)) ? `${short} (a fold would have no test rows or a single class to learn)` : null;
}

/** The answer of a run that had nothing to train on: nothing was written. */
const nothingToTrain = (trigger: TrainTrigger, pairs: string[], rows: number, reason: string, drift: DriftReport | null): TrainingSummary => ({
  run: null,
  trigger,
  kind: 'none',
  pairs,
  rows,
  folds: 0,
  version: null,
  metrics: null,
  championMetrics: null,
  promoted: false,
  reason,
  drift,
});

/** Rows whose label is known by `now` (labels end at a stored bar's close, never later than the store). */
const knownBy = (rows: readonly Row[], now: number): Row[] => rows.map((r) => (r.labelEnd <= now ? r : { ...r, y: null, labelEnd: Infinity }));

const metricsOf = (folds: readonly FoldResult[]): ModelMetrics => {
  const s = summarize(folds);
  return {
    window: { from: folds[0]?.testFrom ?? NaN, to: folds[folds.length - 1]?.testTo ?? NaN },
    auc: s.auc,
    logLoss: s.logLoss,
    brier: s.brier,
    netReturn: s.strategyReturn,
    buyHoldReturn: s.buyHoldReturn,
    folds: s.folds,
  };
};

/** The champion's configuration (model spec, features, label) as TrainOptions, to cross-validate it on new rows. */
export function championOptions(champion: ModelRecord, base: TrainOptions): TrainOptions {
  const m = trainedModelOf(champion);
  const clf = m.classifier.toJSON() as { params: Record<string, unknown> };
  return { ...base, model: { kind: champion.kind, params: clf.params } as ModelSpec, features: m.data.featureParams, label: { horizonBars: m.data.horizonBars, feeRate: m.data.feeRate } };
}

const stamp = (t: number): string => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/**
 * One full training run: recorded in training_runs and audited, whatever its outcome. Too little
 * stored history (historyShortfall) is answered as `kind: 'none'` before a run is started.
 */
export async function fullRetrain(db: Db, clock: Clock, trigger: TrainTrigger, pairs: readonly string[], options: Partial<TrainJobOptions> = {}, drift: DriftReport | null = null): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  const opts: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...o.train };
  const cv = opts.cv;
  if (!cv) throw new Error('a training run needs cross-validation (train.cv) to compare with the champion');
  const now = clock.now();
  o.onProgress?.('load', 0, 4);
  const candles = await storedCandles(db, pairs, o.interval, o.maxBars, now);
  // Without BTC/USD the other pairs' cross-asset features cannot be built at all.
  if (Object.keys(candles).length && !candles[BTC_PAIR]) return nothingToTrain(trigger, Object.keys(candles), 0, NO_BTC, drift);
  const rows = knownBy(buildRows(candles, opts.label, opts.features), now);
  const shortfall = historyShortfall(rows, cv);
  if (shortfall) return nothingToTrain(trigger, Object.keys(candles), rows.filter((r) => r.y !== null).length, shortfall, drift);
  const run = await startTrainingRun(db, trigger, clock, { kind: 'full', pairs, drift: drift?.reasons ?? null });
  try {
    o.onProgress?.('cross-validate', 1, 4);
    const folds = crossValidate(rows, opts);
    o.onProgress?.('fit', 2, 4);
    const model = fitTrainedModel(rows, opts, summarize(folds).brier);
    const version = `${model.kind}-${stamp(now)}-${run.slice(0, 8)}`;
    const challenger = challengerRecord({ model, metrics: summarize(folds), folds }, { version, trainedAt: now });
    o.onProgress?.('compare', 3, 4);
    const champion = await loadChampion(db);
    let championSide: { record: ModelRecord; metricsOnChallengerWindow: ModelMetrics } | null = null;
    if (champion) {
      const co = championOptions(champion, opts);
      const same = champion.featureSetHash === model.data.featureSetHash && co.label.horizonBars === opts.label.horizonBars && co.label.feeRate === opts.label.feeRate;
      const championRows = same ? rows : knownBy(buildRows(candles, co.label, co.features), now);
      championSide = { record: champion, metricsOnChallengerWindow: metricsOf(crossValidate(championRows, co)) };
    }
    const outcome = await registerChallenger(db, challenger, championSide, clock, o.margin, { run, trigger });
    const promoted = outcome.decision.promote;
    o.onProgress?.('done', 4, 4);
    await finishTrainingRun(db, run, { status: 'succeeded', modelVersion: version, promoted: promoted ? 'promoted' : 'refused', metrics: { challenger: challenger.metrics, champion: championSide?.metricsOnChallengerWindow ?? null, reason: outcome.decision.reason } }, clock);
    return {
      run,
      trigger,
      kind: 'full',
      pairs: Object.keys(candles),
      rows: rows.filter((r) => r.y !== null).length,
      folds: folds.length,
      version,
      metrics: challenger.metrics,
      championMetrics: championSide?.metricsOnChallengerWindow ?? null,
      promoted,
      reason: outcome.decision.reason,
      drift,
    };
  } catch (err) {
    await finishTrainingRun(db, run, { status: 'failed', error: (err as Error).message }, clock);
    throw err;
  }
}

/**
 * Online update: the champion learns the rows labelled since its window ended, stored as a new
 * version `<base>.u<n>` that replaces it (not gated: it is the same model nudged by a few rows; the
 * next full retrain is judged against it). Metrics and `trainedAt` stay the last full fit's, so the
 * full-retrain cadence counts from it; `params.onlineUpdatedAt` says when it was nudged.
 */
export async function onlineUpdateChampion(db: Db, clock: Clock, pairs: readonly string[], options: Partial<TrainJobOptions> = {}): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  const champion = await loadChampion(db);
  if (!champion) throw new Error('online update: there is no champion');
  const run = await startTrainingRun(db, 'schedule', clock, { kind: 'online', champion: champion.version });
  try {
    const now = clock.now();
    const model = trainedModelOf(champion);
    const candles = await trainingCandles(db, pairs, o.interval, o.maxBars, now);
    const rows = knownBy(buildRows(candles, { horizonBars: model.data.horizonBars, feeRate: model.data.feeRate }, model.data.featureParams), now).filter((r) => r.y !== null && r.time > model.data.window.to);
    let version: string | null = null;
    if (rows.length) {
      const next = onlineUpdate(model, rows, o.online);
      const [base, n] = champion.version.split('.u');
      version = `${base}.u${Number(n ?? 0) + 1}`;
      const record: ModelRecord = { ...champion, version, model: next.toJSON(), dataWindow: { ...champion.dataWindow, to: next.data.window.to, rows: next.data.window.rows }, params: { ...champion.params, onlineUpdatedAt: now }, status: 'champion' };
      await replaceChampion(db, champion, record, clock, { run, rows: rows.length });
    }
    await finishTrainingRun(db, run, { status: 'succeeded', modelVersion: version, promoted: version ? 'updated' : null, metrics: { onlineRows: rows.length } }, clock);
    return { run, trigger: 'schedule', kind: rows.length ? 'online' : 'none', pairs: Object.keys(candles), rows: rows.length, folds: 0, version, metrics: champion.metrics, championMetrics: null, promoted: false, reason: rows.length ? `online update on ${rows.length} new rows` : 'no newly labelled rows', drift: null };
  } catch (err) {
    await finishTrainingRun(db, run, { status: 'failed', error: (err as Error).message }, clock);
    throw err;
  }
}

/**
 * Drift of the champion: rolling Brier of the stored ML signals (any non-baseline version) against
 * the outcomes the stored candles have realised since, and PSI of recent feature rows.
 */
export async function checkDrift(db: Db, clock: Clock, pairs: readonly string[], options: Partial<TrainJobOptions> = {}): Promise<DriftReport | null> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  const champion = await loadChampion(db);
  if (!champion) return null;
  const model = trainedModelOf(champion);
  const now = clock.now();
  const since = now - (o.driftWindowBars + model.data.horizonBars + 1) * o.interval * 1000;
  const candles = await trainingCandles(db, pairs, o.interval, o.driftWindowBars + model.data.featureParams.regime.longBars + 250, now);
  const stored = await db
    .select({ pair: signals.pair, ts: signals.ts, probUp: signals.probUp, horizonBars: signals.horizonBars })
    .from(signals)
    .where(and(inArray(signals.pair, [...pairs]), gte(signals.ts, new Date(since)), not(like(signals.modelVersion, 'baseline%'))))
    .orderBy(desc(signals.ts));
  const probs: number[] = [];
  const outcomes: number[] = [];
  const labelsByPair = new Map<string, Map<number, { y: 0 | 1; endTime: number }>>();
  for (const s of stored) {
    let labels = labelsByPair.get(`${s.pair}|${s.horizonBars}`);
    if (!labels) {
      const cs = candles[s.pair] ?? [];
      const ls = forwardLabels(cs, { horizonBars: s.horizonBars, feeRate: model.data.feeRate });
      labels = new Map(cs.flatMap((c, i) => (ls[i] ? [[c.openTime, ls[i]!] as const] : [])));
      labelsByPair.set(`${s.pair}|${s.horizonBars}`, labels);
    }
    const l = labels.get(s.ts.getTime());
    if (!l || l.endTime > now) continue;
    probs.push(s.probUp);
    outcomes.push(l.y);
  }
  const scored: CandlesByPair = Object.fromEntries(Object.entries(candles).filter(([p]) => pairs.includes(p) || p === BTC_PAIR));
  const rows = buildRows(scored, { horizonBars: model.data.horizonBars, feeRate: model.data.feeRate }, model.data.featureParams).filter((r) => pairs.includes(r.pair));
  const recent = rows.slice(-o.driftWindowBars * pairs.length);
  return assessDrift(model.data.reference, { X: recent.map((r) => r.x), probs: probs.slice(0, o.driftWindowBars * pairs.length), outcomes: outcomes.slice(0, o.driftWindowBars * pairs.length) }, o.drift);
}

/**
 * The train function's work. manual / drift: a full retrain. schedule: drift check first (a drift
 * verdict runs a `drift` retrain); otherwise a full retrain when there is no champion or its fit is
 * older than `fullRetrainEveryMs` (daily, the cron's cadence), else an online update.
 */
export async function trainJob(db: Db, clock: Clock, trigger: TrainTrigger, pairs: readonly string[], options: Partial<TrainJobOptions> = {}): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  if (!pairs.length) return nothingToTrain(trigger, [], 0, 'no traded pairs: nothing to train on', null);
  if (trigger !== 'schedule') return fullRetrain(db, clock, trigger, pairs, o);
  const drift = await checkDrift(db, clock, pairs, o);
  if (drift?.retrain) return fullRetrain(db, clock, 'drift', pairs, o, drift);
  const champion = await loadChampion(db);
  if (!champion || clock.now() - champion.trainedAt >= o.fullRetrainEveryMs) return fullRetrain(db, clock, 'schedule', pairs, o, drift);
  return { ...(await onlineUpdateChampion(db, clock, pairs, o)), drift };
}
