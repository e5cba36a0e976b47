import { and, desc, eq, gte, inArray, like, or } from 'drizzle-orm';
import { signals } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import { mlProvider } from '../cycle/ml-provider.ts';
import { baselineProvider, type SignalProvider } from '../cycle/signals.ts';
import type { Db } from '../db/client.ts';
import { USD_MARKETS } from '../exchange/usd-markets.ts';
import type { Candle } from '../market/candle.ts';
import { loadCandles } from '../market/store.ts';
import { purgedFolds, type FoldOptions } from './cv.ts';
import { buildRows, type CandlesByPair, type Row } from './dataset.ts';
import { DEFAULT_DRIFT_THRESHOLDS, assessDrift, type DriftReport, type DriftThresholds } from './drift.ts';
import { BTC_PAIR } from './features.ts';
import { DEFAULT_HOLDOUT, cursorOf, evaluationPlan, scoreProbs, splitAt, type HoldoutOptions } from './holdout.ts';
import { forwardLabels } from './labels.ts';
import { DEFAULT_ONLINE_UPDATE, onlineUpdate, type OnlineUpdateOptions } from './online.ts';
import { DEFAULT_PROMOTION_MARGIN, challengerRecord, cvMetrics, shouldPromote, type HoldoutComparison, type ModelMetrics, type ModelRecord, type PromotionMargin } from './registry.ts';
import { finishTrainingRun, lastFullRun, loadChampion, loadLineage, loadModel, registerChallenger, replaceChampion, startTrainingRun, trainedModelOf, type TrainTrigger } from './registry-store.ts';
import { simulationAccounts } from './sim-accounts.ts';
import { simulateProviders } from './simulation.ts';
import { DEFAULT_TRAIN_OPTIONS, crossValidate, fitTrainedModel, summarize, type TrainOptions } from './train.ts';
import type { TrainedModel } from './trained.ts';

/**
 * The training loop against the database (I/O; not part of the pure core). A full retrain holds out
 * the newest labelled bars, fits the challenger on what came before (cross-validated there for its
 * edge over a constant), and scores it and the champion's frozen weights on the held-out bars, which
 * neither learned; the live cycle's backtest over the same bars says whether it makes money after
 * costs and more than the baseline. Promoted, it is refitted on every labelled row. Between full
 * retrains the champion learns the newly labelled rows online; drift triggers a full retrain early.
 */
export interface TrainJobOptions {
  interval: number;
  /** Newest stored bars per pair to learn from. */
  maxBars: number;
  train: Partial<TrainOptions>;
  margin: PromotionMargin;
  /** The evaluation window held out from the challenger's fit. */
  holdout: HoldoutOptions;
  drift: DriftThresholds;
  /** Signals and feature rows the drift check looks back over (bars). */
  driftWindowBars: number;
  /** A scheduled run does a full retrain when the last full one (promoted or refused) is at least this old, else an online update. */
  fullRetrainEveryMs: number;
  online: OnlineUpdateOptions;
  onProgress?: (stage: string, done: number, total: number) => void;
}

const HOUR = 3_600_000;

export const DEFAULT_TRAIN_JOB: TrainJobOptions = {
  interval: 3600,
  maxBars: 8760,
  train: {},
  margin: DEFAULT_PROMOTION_MARGIN,
  holdout: DEFAULT_HOLDOUT,
  drift: DEFAULT_DRIFT_THRESHOLDS,
  driftWindowBars: 720,
  // Weekly, as long as the held-out week: the nightly runs in between are online updates, so the
  // champion has learned all but the last day — the comparison then falls back to its full fit,
  // which has learned none of the week. A run an hour early still retrains in full.
  fullRetrainEveryMs: 7 * 24 * HOUR - HOUR,
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
  /** The challenger's CV figures and, under `holdout`, its comparison with the champion (full runs). */
  metrics: ModelMetrics | null;
  comparison: HoldoutComparison | null;
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
 * Why the history before the evaluation window cannot be cross-validated yet, or null when it can.
 * A fresh install has no candles and a young one too few to make every fold, or folds whose training
 * side holds a single class: that is nothing to do yet, not a failure.
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
  comparison: null,
  promoted: false,
  reason,
  drift,
});

/** Rows whose label is known by `now` (labels end at a stored bar's close, never later than the store). */
const knownBy = (rows: readonly Row[], now: number): Row[] => rows.map((r) => (r.labelEnd <= now ? r : { ...r, y: null, labelEnd: Infinity }));

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** jsonb reorders keys: compare parameters by their sorted JSON. */
const canonical = (v: unknown): string =>
  Array.isArray(v) ? `[${v.map(canonical).join(',')}]` : v !== null && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}` : JSON.stringify(v);

/** The configuration a record was fitted with (online updates only note when they nudged it). */
const specOf = (r: Pick<ModelRecord, 'kind' | 'featureSetHash' | 'params'>): string => {
  const { onlineUpdatedAt: _updated, ...params } = r.params;
  return canonical({ kind: r.kind, featureSetHash: r.featureSetHash, params });
};

const stamp = (t: number): string => new Date(t).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** Scores of `model` on the labelled rows decided in [from, ∞), built with the model's own features and label. */
function heldOutScores(model: TrainedModel, candles: CandlesByPair, now: number, from: number, pairs: readonly string[]) {
  const rows = knownBy(buildRows(candles, { horizonBars: model.data.horizonBars, feeRate: model.data.feeRate }, model.data.featureParams), now).filter((r) => r.y !== null && r.decisionTime >= from && pairs.includes(r.pair));
  return scoreProbs(rows.map((r) => model.predictProba(r.x)), rows.map((r) => r.y as number));
}

/**
 * One full training run: recorded in training_runs and audited, whatever its outcome. Too little
 * stored history, or too few bars the champion has not learned, is answered as `kind: 'none'`
 * before a run is started.
 */
export async function fullRetrain(db: Db, clock: Clock, trigger: TrainTrigger, pairs: readonly string[], options: Partial<TrainJobOptions> = {}, drift: DriftReport | null = null): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  const opts: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...o.train };
  const cv = opts.cv;
  if (!cv) throw new Error('a training run needs cross-validation (train.cv) to judge the challenger\'s edge');
  const now = clock.now();
  const steps = 6;
  o.onProgress?.('load', 0, steps);
  const candles = await storedCandles(db, pairs, o.interval, o.maxBars, now);
  // Without BTC/USD the other pairs' cross-asset features cannot be built at all.
  if (Object.keys(candles).length && !candles[BTC_PAIR]) return nothingToTrain(trigger, Object.keys(candles), 0, NO_BTC, drift);
  // Rows of the pairs asked for (BTC/USD only feeds the others' features unless it is traded).
  const rows = knownBy(buildRows(candles, opts.label, opts.features), now).filter((r) => pairs.includes(r.pair));
  const labelled = rows.filter((r) => r.y !== null);
  const tooShort = historyShortfall(rows, cv);
  if (tooShort) return nothingToTrain(trigger, Object.keys(candles), labelled.length, tooShort, drift);
  const champion = await loadChampion(db);
  const plan = evaluationPlan(labelled.map((r) => r.decisionTime), champion ? await loadLineage(db, champion.lineage) : [], o.holdout);
  if (!plan.ok) return nothingToTrain(trigger, Object.keys(candles), labelled.length, plan.reason, drift);
  const { train: trainRows, evaluate } = splitAt(rows, plan.from);
  const shortfall = historyShortfall(trainRows, cv);
  if (shortfall) return nothingToTrain(trigger, Object.keys(candles), labelled.length, `${shortfall} before the held-out window`, drift);
  if (new Set(evaluate.map((r) => r.y)).size < 2) return nothingToTrain(trigger, Object.keys(candles), labelled.length, 'the held-out window holds a single class: nothing to compare on', drift);
  const run = await startTrainingRun(db, trigger, 'full', clock, { pairs, drift: drift?.reasons ?? null, holdout: { from: plan.from, to: plan.to, bars: plan.bars, comparator: plan.comparator?.version ?? null } });
  try {
    o.onProgress?.('cross-validate', 1, steps);
    const folds = crossValidate(trainRows, opts);
    const cvm = cvMetrics(summarize(folds), folds);
    o.onProgress?.('fit', 2, steps);
    // Frozen for the comparison: it has learned nothing decided in the window.
    const frozen = fitTrainedModel(trainRows, opts, cvm.brier);
    const version = `${frozen.kind}-${stamp(now)}-${run.slice(0, 8)}`;
    o.onProgress?.('compare', 3, steps);
    const y = evaluate.map((r) => r.y as number);
    const baseRate = mean(trainRows.map((r) => r.y as number));
    const challengerScores = scoreProbs(evaluate.map((r) => frozen.predictProba(r.x)), y);
    let comparator: { record: ModelRecord; model: TrainedModel } | null = null;
    if (plan.comparator) {
      const record = await loadModel(db, plan.comparator.version);
      if (!record) throw new Error(`lineage member ${plan.comparator.version} is missing from the registry`);
      comparator = { record, model: trainedModelOf(record) };
    }
    const challengerSpec = specOf({ kind: frozen.kind, featureSetHash: frozen.data.featureSetHash, params: { ...frozen.classifier.toJSON().params, horizonBars: opts.label.horizonBars, feeRate: opts.label.feeRate } });
    o.onProgress?.('simulate', 4, steps);
    const traded = Object.keys(candles).filter((p) => pairs.includes(p));
    const sim = await simulationAccounts(db, traded);
    const providers: Record<string, SignalProvider> = { challenger: mlProvider(frozen, `${version}.holdout`), baseline: baselineProvider };
    if (comparator) providers.champion = mlProvider(comparator.model, comparator.record.version);
    const runs = await simulateProviders({ candles, markets: USD_MARKETS, accounts: sim.accounts, from: plan.from, providers });
    const comparison: HoldoutComparison = {
      window: { from: plan.from, to: plan.to },
      rows: evaluate.length,
      positiveRate: mean(y),
      challenger: challengerScores,
      baseRate: scoreProbs(y.map(() => baseRate), y),
      champion: champion?.version ?? null,
      comparator: comparator && {
        version: comparator.record.version,
        trainedThrough: comparator.record.trainedThrough,
        scores: heldOutScores(comparator.model, candles, now, plan.from, pairs),
        sameSpec: specOf(comparator.record) === challengerSpec,
        sameLabel: comparator.model.data.horizonBars === opts.label.horizonBars && comparator.model.data.feeRate === opts.label.feeRate,
      },
      simulation: {
        window: runs.challenger!.window,
        accounts: sim.names,
        challenger: runs.challenger!.totalReturn,
        champion: runs.champion?.totalReturn ?? null,
        baseline: runs.baseline!.totalReturn,
        buyHold: runs.baseline!.buyHold,
        challengerTrades: runs.challenger!.trades,
        baselineTrades: runs.baseline!.trades,
      },
    };
    const metrics: ModelMetrics = { ...cvm, holdout: comparison };
    const promote = shouldPromote(metrics, comparison, o.margin).promote;
    o.onProgress?.(promote ? 'refit' : 'register', 5, steps);
    // A winner is refitted on every labelled row, the window included: the spec won, and the newest
    // rows are the most relevant. A refused challenger is kept as judged (the frozen weights).
    const final = promote ? fitTrainedModel(rows, opts, challengerScores.brier) : frozen;
    const record = challengerRecord(final, { version, trainedAt: now, trainedThrough: cursorOf(promote ? rows : trainRows), metrics });
    const outcome = await registerChallenger(db, record, comparison, clock, o.margin, { run, trigger, weights: promote ? 'refitted on every labelled row' : 'fitted before the held-out window' });
    o.onProgress?.('done', steps, steps);
    await finishTrainingRun(db, run, { status: 'succeeded', modelVersion: version, promoted: outcome.decision.promote ? 'promoted' : 'refused', metrics: { challenger: cvm, holdout: comparison, reason: outcome.decision.reason } }, clock);
    return {
      run,
      trigger,
      kind: 'full',
      pairs: Object.keys(candles),
      rows: labelled.length,
      folds: folds.length,
      version,
      metrics,
      comparison,
      promoted: outcome.decision.promote,
      reason: outcome.decision.reason,
      drift,
    };
  } catch (err) {
    await finishTrainingRun(db, run, { status: 'failed', error: (err as Error).message }, clock);
    throw err;
  }
}

/**
 * Online update: the champion learns the rows labelled since its data cursor, stored as a new
 * version `<base>.u<n>` of the same lineage that replaces it (not gated: it is the same model nudged
 * by a few rows; the next full retrain compares against the lineage member that had not learned the
 * held-out window). Its `trainedAt` and `trainedThrough` advance; its metrics stay the full fit's.
 */
export async function onlineUpdateChampion(db: Db, clock: Clock, pairs: readonly string[], options: Partial<TrainJobOptions> = {}): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  const champion = await loadChampion(db);
  if (!champion) throw new Error('online update: there is no champion');
  const run = await startTrainingRun(db, 'schedule', 'online', clock, { champion: champion.version, trainedThrough: champion.trainedThrough });
  try {
    const now = clock.now();
    const model = trainedModelOf(champion);
    const candles = await trainingCandles(db, pairs, o.interval, o.maxBars, now);
    const rows = knownBy(buildRows(candles, { horizonBars: model.data.horizonBars, feeRate: model.data.feeRate }, model.data.featureParams), now).filter(
      (r) => r.y !== null && r.time > model.data.window.to && pairs.includes(r.pair),
    );
    let version: string | null = null;
    if (rows.length) {
      const next = onlineUpdate(model, rows, o.online);
      const [base, n] = champion.version.split('.u');
      version = `${base}.u${Number(n ?? 0) + 1}`;
      const record: ModelRecord = {
        ...champion,
        version,
        model: next.toJSON(),
        dataWindow: { ...champion.dataWindow, to: next.data.window.to, rows: next.data.window.rows },
        params: { ...champion.params, onlineUpdatedAt: now },
        status: 'champion',
        trainedAt: now,
        trainedThrough: Math.max(champion.trainedThrough, cursorOf(rows)),
      };
      await replaceChampion(db, champion, record, clock, { run, rows: rows.length, trainedThrough: { from: champion.trainedThrough, to: record.trainedThrough } });
    }
    await finishTrainingRun(db, run, { status: 'succeeded', modelVersion: version, promoted: version ? 'updated' : null, metrics: { onlineRows: rows.length } }, clock);
    return {
      run,
      trigger: 'schedule',
      kind: rows.length ? 'online' : 'none',
      pairs: Object.keys(candles),
      rows: rows.length,
      folds: 0,
      version,
      metrics: champion.metrics,
      comparison: null,
      promoted: false,
      reason: rows.length ? `online update on ${rows.length} new rows` : 'no newly labelled rows',
      drift: null,
    };
  } catch (err) {
    await finishTrainingRun(db, run, { status: 'failed', error: (err as Error).message }, clock);
    throw err;
  }
}

/**
 * Drift of the champion: rolling Brier of the stored signals of its lineage (its full fit and online
 * updates) against the outcomes the stored candles have realised since, and PSI of recent feature rows.
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
    .where(and(inArray(signals.pair, [...pairs]), gte(signals.ts, new Date(since)), or(eq(signals.modelVersion, champion.lineage), like(signals.modelVersion, `${champion.lineage}.u%`))))
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
 * The train function's work. manual / drift: a full retrain. schedule: the drift check first (drift
 * runs a `drift` retrain); otherwise a full retrain when there is no champion or the last full run is
 * `fullRetrainEveryMs` old, else an online update. A full retrain that cannot compare yet (too few
 * bars the champion has not learned) gives way to an online update, so the champion keeps learning.
 */
export async function trainJob(db: Db, clock: Clock, trigger: TrainTrigger, pairs: readonly string[], options: Partial<TrainJobOptions> = {}): Promise<TrainingSummary> {
  const o = { ...DEFAULT_TRAIN_JOB, ...options };
  if (!pairs.length) return nothingToTrain(trigger, [], 0, 'no traded pairs: nothing to train on', null);
  if (trigger !== 'schedule') return fullRetrain(db, clock, trigger, pairs, o);
  const drift = await checkDrift(db, clock, pairs, o);
  const champion = await loadChampion(db);
  let deferred: TrainingSummary | null = null;
  if (drift?.retrain) deferred = await fullRetrain(db, clock, 'drift', pairs, o, drift);
  else if (!champion) return fullRetrain(db, clock, 'schedule', pairs, o, drift);
  else if (clock.now() - ((await lastFullRun(db)) ?? champion.trainedAt) >= o.fullRetrainEveryMs) deferred = await fullRetrain(db, clock, 'schedule', pairs, o, drift);
  if (deferred && (deferred.kind !== 'none' || !champion)) return deferred;
  const online = await onlineUpdateChampion(db, clock, pairs, o);
  return { ...online, reason: deferred ? `full retrain deferred (${deferred.reason}); ${online.reason}` : online.reason, drift };
}
