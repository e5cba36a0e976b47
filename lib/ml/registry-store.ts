import { and, desc, eq, sql } from 'drizzle-orm';
import { models, trainingRuns } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { DEFAULT_PROMOTION_MARGIN, modelRecordSchema, shouldPromote, type ModelMetrics, type ModelRecord, type PromotionDecision, type PromotionMargin } from './registry.ts';
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

export interface PromotionOutcome {
  decision: PromotionDecision;
  previousChampion: string | null;
}

/**
 * Saves the challenger and, when `shouldPromote` agrees (champion metrics re-evaluated on the
 * challenger's window), makes it the champion and retires the old one — one transaction, audited
 * `model.train` and `model.promote` / `model.refused` with the metrics compared.
 */
export async function registerChallenger(
  db: Db,
  challenger: ModelRecord,
  champion: { record: ModelRecord; metricsOnChallengerWindow: ModelMetrics } | null,
  clock: Clock,
  margin: PromotionMargin = DEFAULT_PROMOTION_MARGIN,
  audit: Record<string, unknown> = {},
): Promise<PromotionOutcome> {
  if (challenger.status !== 'challenger') throw new Error(`registerChallenger: ${challenger.version} has status ${challenger.status}`);
  const compared = champion ? { ...champion.record, metrics: champion.metricsOnChallengerWindow } : null;
  const decision = shouldPromote(compared, challenger, margin);
  await db.transaction(async (tx) => {
    // Serialise registry changes: two trainers never both promote.
    await tx.execute(sql`select pg_advisory_xact_lock(${REGISTRY_LOCK})`);
    const current = await loadChampion(tx);
    if ((current?.version ?? null) !== (champion?.record.version ?? null)) throw new Error(`champion changed during training (${champion?.record.version ?? 'none'} → ${current?.version ?? 'none'}): retrain`);
    await saveModel(tx, challenger, clock);
    await appendAudit(tx, { action: 'model.train', details: { version: challenger.version, kind: challenger.kind, featureSetHash: challenger.featureSetHash, dataWindow: challenger.dataWindow, metrics: challenger.metrics, ...audit } }, clock);
    const details = { challenger: challenger.version, champion: champion?.record.version ?? null, reason: decision.reason, margin, metrics: { challenger: challenger.metrics, champion: compared?.metrics ?? null } };
    if (!decision.promote) {
      await appendAudit(tx, { action: 'model.refused', details }, clock);
      return;
    }
    const at = new Date(clock.now());
    if (champion) await tx.update(models).set({ status: 'retired' }).where(and(eq(models.version, champion.record.version), eq(models.status, 'champion')));
    await tx.update(models).set({ status: 'champion', promotedAt: at }).where(eq(models.version, challenger.version));
    await appendAudit(tx, { action: 'model.promote', details }, clock);
  });
  return { decision, previousChampion: champion?.record.version ?? null };
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

export async function startTrainingRun(db: Db, trigger: TrainTrigger, clock: Clock, details: Record<string, unknown> = {}): Promise<string> {
  return db.transaction(async (tx) => {
    const [r] = await tx.insert(trainingRuns).values({ trigger, status: 'running', startedAt: new Date(clock.now()) }).returning({ id: trainingRuns.id });
    await appendAudit(tx, { action: 'training.start', details: { run: r!.id, trigger, ...details } }, clock);
    return r!.id;
  });
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
