import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { models, trainingRuns } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import type { LineageMember } from './holdout.ts';
import { DEFAULT_PROMOTION_MARGIN, modelRecordSchema, shouldPromote, type HoldoutComparison, type ModelRecord, type PromotionDecision, type PromotionMargin } from './registry.ts';
import { TrainedModel } from './trained.ts';

/**
 * The model registry in the database (I/O: not part of the pure core, not exported by index.ts).
 * `blob` holds { model: TrainedModel.toJSON(), trainedAt, dataWindow } so a row reads back into the
 * exact ModelRecord that was saved.
 */
type Row = typeof models.$inferSelect;
const REGISTRY_LOCK = 0x6d6f646c; // "modl"

const blobOf = (r: ModelRecord) => ({ model: r.model, trainedAt: r.trainedAt, dataWindow: r.dataWindow });

function recordOf(row: Row): ModelRecord {
  const blob = row.blob as { model: unknown; trainedAt: number; dataWindow: ModelRecord['dataWindow'] };
  return modelRecordSchema.parse({
    version: row.version,
    kind: row.kind,
    params: row.params,
    featureSetHash: row.featureSetHash,
    dataWindow: blob.dataWindow,
    metrics: row.metrics,
    model: blob.model,
    status: row.status,
    trainedAt: blob.trainedAt,
    trainedThrough: row.trainedThrough.getTime(),
    lineage: row.lineage,
  });
}

export async function saveModel(tx: Tx, r: ModelRecord, clock: Clock): Promise<void> {
  await tx.insert(models).values({
    version: r.version,
    kind: r.kind,
    params: r.params,
    featureSetHash: r.featureSetHash,
    dataFrom: new Date(r.dataWindow.from),
    dataTo: new Date(r.dataWindow.to),
    metrics: r.metrics,
    blob: blobOf(r),
    status: r.status,
    createdAt: new Date(clock.now()),
    trainedThrough: new Date(r.trainedThrough),
    lineage: r.lineage,
  });
}

export async function loadModel(db: Db | Tx, version: string): Promise<ModelRecord | null> {
  const [row] = await db.select().from(models).where(eq(models.version, version)).limit(1);
  return row ? recordOf(row) : null;
}

export async function loadChampion(db: Db | Tx): Promise<ModelRecord | null> {
  const rows = await db.select().from(models).where(eq(models.status, 'champion')).orderBy(desc(models.promotedAt)).limit(2);
  if (rows.length > 1) throw new Error(`registry holds more than one champion (${rows.map((r) => r.version).join(', ')})`);
  return rows[0] ? recordOf(rows[0]) : null;
}

export const trainedModelOf = (r: ModelRecord): TrainedModel => TrainedModel.fromJSON(r.model);

/** The versions of a lineage (a full fit and its online updates) with their data cursors, oldest first. */
export async function loadLineage(db: Db | Tx, lineage: string): Promise<LineageMember[]> {
  const rows = await db.select({ version: models.version, trainedThrough: models.trainedThrough }).from(models).where(eq(models.lineage, lineage)).orderBy(asc(models.trainedThrough), asc(models.createdAt));
  return rows.map((r) => ({ version: r.version, trainedThrough: r.trainedThrough.getTime() }));
}

export interface PromotionOutcome {
  decision: PromotionDecision;
  previousChampion: string | null;
}

/**
 * Saves the challenger and, when `shouldPromote` agrees (the CV figures in its metrics, the holdout
 * comparison with the champion's frozen weights), makes it the champion and retires the old one — one
 * transaction, audited `model.train` and `model.promote` / `model.refused` with every figure compared
 * (held-out scores of both, the base rate, the simulated returns of challenger, champion and baseline).
 */
export async function registerChallenger(
  db: Db,
  challenger: ModelRecord,
  comparison: HoldoutComparison,
  clock: Clock,
  margin: PromotionMargin = DEFAULT_PROMOTION_MARGIN,
  audit: Record<string, unknown> = {},
): Promise<PromotionOutcome> {
  if (challenger.status !== 'challenger') throw new Error(`registerChallenger: ${challenger.version} has status ${challenger.status}`);
  const decision = shouldPromote(challenger.metrics, comparison, margin);
  await db.transaction(async (tx) => {
    // Serialise registry changes: two trainers never both promote.
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const current = await loadChampion(tx);
    if ((current?.version ?? null) !== comparison.champion) throw new Error(`champion changed during training (${comparison.champion ?? 'none'} → ${current?.version ?? 'none'}): retrain`);
    await saveModel(tx, challenger, clock);
    await appendAudit(tx, { action: 'model.train', details: { version: challenger.version, kind: challenger.kind, featureSetHash: challenger.featureSetHash, dataWindow: challenger.dataWindow, trainedThrough: challenger.trainedThrough, metrics: challenger.metrics, ...audit } }, clock);
    const { holdout: _h, ...cv } = challenger.metrics;
    const details = { challenger: challenger.version, champion: comparison.champion, comparator: comparison.comparator?.version ?? null, reason: decision.reason, margin, cv, holdout: comparison };
    if (!decision.promote) {
      await appendAudit(tx, { action: 'model.refused', details }, clock);
      return;
    }
    const at = new Date(clock.now());
    if (current) await tx.update(models).set({ status: 'retired' }).where(and(eq(models.version, current.version), eq(models.status, 'champion')));
    await tx.update(models).set({ status: 'champion', promotedAt: at }).where(eq(models.version, challenger.version));
    await appendAudit(tx, { action: 'model.promote', details }, clock);
  });
  return { decision, previousChampion: comparison.champion };
}

/**
 * An online update of the champion becomes a new version (`<base>.u<n>`) that replaces it directly:
 * the signal rows then name exactly the parameters that produced them. Audited `model.update`.
 */
export async function replaceChampion(db: Db, previous: ModelRecord, next: ModelRecord, clock: Clock, audit: Record<string, unknown>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const current = await loadChampion(tx);
    if (current?.version !== previous.version) throw new Error(`champion is ${current?.version ?? 'none'}, not ${previous.version}`);
    await saveModel(tx, { ...next, status: 'retired' }, clock);
    await tx.update(models).set({ status: 'retired' }).where(eq(models.version, previous.version));
    await tx.update(models).set({ status: 'champion', promotedAt: new Date(clock.now()) }).where(eq(models.version, next.version));
    await appendAudit(tx, { action: 'model.update', details: { from: previous.version, to: next.version, dataWindow: next.dataWindow, ...audit } }, clock);
  });
}

export type TrainTrigger = 'schedule' | 'drift' | 'manual';

export type TrainKind = 'full' | 'online';

export async function startTrainingRun(db: Db, trigger: TrainTrigger, kind: TrainKind, clock: Clock, details: Record<string, unknown> = {}): Promise<string> {
  return db.transaction(async (tx) => {
    const [r] = await tx.insert(trainingRuns).values({ trigger, kind, status: 'running', startedAt: new Date(clock.now()) }).returning({ id: trainingRuns.id });
    await appendAudit(tx, { action: 'training.start', details: { run: r!.id, trigger, kind, ...details } }, clock);
    return r!.id;
  });
}

/** When the newest full retrain that ran to the end started (promoted or refused), or null. */
export async function lastFullRun(db: Db | Tx): Promise<number | null> {
  const [r] = await db.select({ at: trainingRuns.startedAt }).from(trainingRuns).where(and(eq(trainingRuns.kind, 'full'), eq(trainingRuns.status, 'succeeded'))).orderBy(desc(trainingRuns.startedAt)).limit(1);
  return r ? r.at.getTime() : null;
}

export async function finishTrainingRun(
  db: Db,
  id: string,
  outcome: { status: 'succeeded'; modelVersion: string | null; promoted: string | null; metrics: Record<string, unknown> } | { status: 'failed'; error: string },
  clock: Clock,
): Promise<void> {
  await db.transaction(async (tx) => {
    const at = new Date(clock.now());
    if (outcome.status === 'succeeded')
      await tx.update(trainingRuns).set({ status: 'succeeded', finishedAt: at, modelVersion: outcome.modelVersion, promoted: outcome.promoted, metrics: outcome.metrics }).where(eq(trainingRuns.id, id));
    else await tx.update(trainingRuns).set({ status: 'failed', finishedAt: at, error: outcome.error }).where(eq(trainingRuns.id, id));
    await appendAudit(tx, { action: outcome.status === 'succeeded' ? 'training.finish' : 'training.failed', details: { run: id, ...outcome } }, clock);
  });
}
