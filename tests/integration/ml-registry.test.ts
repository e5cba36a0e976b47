import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/clock.ts';
import type { HoldoutComparison, ModelMetrics, ModelRecord } from '../../lib/ml/registry.ts';
import { finishTrainingRun, lastFullRun, loadChampion, loadLineage, loadModel, registerChallenger, replaceChampion, startTrainingRun } from '../../lib/ml/registry-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const H = 3_600_000;
const T0 = Date.parse('2022-06-01T00:00:00Z');
const WINDOW = { from: T0, to: T0 + 167 * H };
const cv: ModelMetrics = { window: { from: T0 - 2000 * H, to: T0 - 25 * H }, auc: 0.6, logLoss: 0.66, brier: 0.23, netReturn: 0.01, buyHoldReturn: -0.1, folds: 5, baseRateLogLoss: 0.69 };
const comparison = (champion: string | null, challengerLogLoss: number, championLogLoss = 0.66, sim = 0.02): HoldoutComparison => ({
  window: WINDOW,
  rows: 334,
  positiveRate: 0.48,
  challenger: { logLoss: challengerLogLoss, brier: 0.22, auc: 0.62 },
  baseRate: { logLoss: 0.69, brier: 0.25, auc: 0.5 },
  champion,
  comparator: champion ? { version: champion, trainedThrough: T0 - H, scores: { logLoss: championLogLoss, brier: 0.23, auc: 0.6 }, sameSpec: false, sameLabel: true } : null,
  simulation: { window: { from: T0, to: T0 + 191 * H }, accounts: ['defaults'], challenger: sim, champion: champion ? 0.01 : null, baseline: 0.005, buyHold: -0.03, challengerTrades: 12, baselineTrades: 6 },
});
const record = (version: string, h: HoldoutComparison, trainedThrough = T0): ModelRecord => ({
  version,
  kind: 'gbt',
  params: { trees: 10, horizonBars: 24 },
  featureSetHash: 'a'.repeat(64),
  dataWindow: { from: Date.parse('2021-01-01T00:00:00Z'), to: trainedThrough - 25 * H, pairs: ['BTC/USD', 'ETH/USD'], rows: 4000 },
  metrics: { ...cv, holdout: h },
  model: { classifier: { kind: 'gbt' }, note: version },
  status: 'challenger',
  trainedAt: T0 + 200 * H,
  trainedThrough,
  lineage: version,
});
const audits = async (action: string) => (await t.owner.query(`select details from audit_log where action = $1 order by id`, [action])).rows.map((r) => r.details);
const statuses = async (): Promise<Record<string, { status: string; promoted: boolean }>> => Object.fromEntries((await t.owner.query(`select version, status, promoted_at from models order by version`)).rows.map((r) => [r.version, { status: r.status, promoted: r.promoted_at !== null }]));

describe('model registry in the database', () => {
  const clock = new VirtualClock(T0 + 200 * H);

  it('promotes the first complete challenger and reads it back as saved (data cursor and lineage included)', async () => {
    const a = record('gbt-a', comparison(null, 0.6));
    const out = await registerChallenger(t.app.db, a, a.metrics.holdout!, clock);
    expect(out.decision).toEqual({ promote: true, reason: expect.stringMatching(/^no champion yet; simulated 2.00 % vs baseline 0.50 %/) });
    expect(await loadChampion(t.app.db)).toEqual({ ...a, status: 'champion' });
    expect(await statuses()).toEqual({ 'gbt-a': { status: 'champion', promoted: true } });
    expect((await t.owner.query(`select trained_through, lineage from models`)).rows).toEqual([{ trained_through: new Date(T0), lineage: 'gbt-a' }]);
    expect((await audits('model.train')).map((d) => [d.version, d.trainedThrough])).toEqual([['gbt-a', T0]]);
    const promoted = (await audits('model.promote'))[0];
    expect(promoted).toMatchObject({ challenger: 'gbt-a', champion: null, comparator: null, holdout: { simulation: { challenger: 0.02, baseline: 0.005 } } });
  });

  it.each([
    ['worse than the champion\'s frozen weights', comparison('gbt-a', 0.67), /new spec: held-out log-loss 0.6700 vs gbt-a's frozen 0.6600: not lower by 0.002/],
    ['better by less than the margin', comparison('gbt-a', 0.659), /not lower by 0.002/],
    ['a loss in the simulation', comparison('gbt-a', 0.6, 0.66, -0.01), /simulated net return -1.00 % after costs is not positive/],
  ])('refuses a challenger %s and audits every figure compared', async (_name, h, reason) => {
    const v = `gbt-refused-${h.challenger.logLoss}-${h.simulation.challenger}`;
    const out = await registerChallenger(t.app.db, record(v, h), h, clock);
    expect(out.decision.promote).toBe(false);
    expect(out.decision.reason).toMatch(reason);
    expect((await loadChampion(t.app.db))!.version).toBe('gbt-a');
    expect((await loadModel(t.app.db, v))!.status).toBe('challenger');
    const refused = (await audits('model.refused')).at(-1);
    expect(refused).toMatchObject({ challenger: v, champion: 'gbt-a', comparator: 'gbt-a', reason: out.decision.reason, cv: { logLoss: 0.66, baseRateLogLoss: 0.69 }, holdout: JSON.parse(JSON.stringify(h)) });
  });

  it('promotes a better challenger: old champion retired, new one champion, in one audited step', async () => {
    const h = comparison('gbt-a', 0.64);
    const out = await registerChallenger(t.app.db, record('gbt-b', h, T0 + 170 * H), h, clock);
    expect(out).toMatchObject({ decision: { promote: true }, previousChampion: 'gbt-a' });
    const s = await statuses();
    expect(s['gbt-a']).toEqual({ status: 'retired', promoted: true });
    expect(s['gbt-b']).toEqual({ status: 'champion', promoted: true });
    expect(Object.values(s).filter((x) => x.status === 'champion')).toHaveLength(1);
    expect((await audits('model.promote')).at(-1)).toMatchObject({ challenger: 'gbt-b', champion: 'gbt-a', holdout: { comparator: { version: 'gbt-a', scores: { logLoss: 0.66 } } } });
  });

  it('refuses to register against a champion that changed meanwhile, leaving nothing behind', async () => {
    const h = comparison('gbt-a', 0.5);
    await expect(registerChallenger(t.app.db, record('gbt-c', h), h, clock)).rejects.toThrow(/champion changed/);
    expect(await loadModel(t.app.db, 'gbt-c')).toBeNull();
  });

  it('an online update stays in the lineage with an advanced cursor; the lineage lists its members oldest cursor first', async () => {
    const b = (await loadChampion(t.app.db))!;
    const u1: ModelRecord = { ...b, version: 'gbt-b.u1', trainedAt: b.trainedAt + 24 * H, trainedThrough: b.trainedThrough + 24 * H, status: 'champion' };
    await replaceChampion(t.app.db, b, u1, clock, { rows: 48 });
    expect(await loadChampion(t.app.db)).toEqual(u1);
    expect(await loadLineage(t.app.db, 'gbt-b')).toEqual([
      { version: 'gbt-b', trainedThrough: T0 + 170 * H },
      { version: 'gbt-b.u1', trainedThrough: T0 + 194 * H },
    ]);
    expect((await audits('model.update')).at(-1)).toMatchObject({ from: 'gbt-b', to: 'gbt-b.u1', rows: 48 });
  });

  it('records training runs with their kind; the newest full run that finished paces the next', async () => {
    expect(await lastFullRun(t.app.db)).toBeNull();
    const full = await startTrainingRun(t.app.db, 'manual', 'full', new VirtualClock(T0));
    await finishTrainingRun(t.app.db, full, { status: 'succeeded', modelVersion: 'gbt-b', promoted: 'refused', metrics: { x: 1 } }, clock);
    const online = await startTrainingRun(t.app.db, 'schedule', 'online', new VirtualClock(T0 + H));
    await finishTrainingRun(t.app.db, online, { status: 'succeeded', modelVersion: 'gbt-b.u1', promoted: 'updated', metrics: {} }, clock);
    const bad = await startTrainingRun(t.app.db, 'drift', 'full', new VirtualClock(T0 + 2 * H));
    await finishTrainingRun(t.app.db, bad, { status: 'failed', error: 'boom' }, clock);
    expect(await lastFullRun(t.app.db)).toBe(T0); // the online run and the failed one do not count
    const runs = (await t.owner.query(`select id, trigger, kind, status, model_version, error, finished_at from training_runs order by started_at`)).rows;
    expect(runs.map((r) => [r.trigger, r.kind, r.status, r.model_version, r.error])).toEqual([
      ['manual', 'full', 'succeeded', 'gbt-b', null],
      ['schedule', 'online', 'succeeded', 'gbt-b.u1', null],
      ['drift', 'full', 'failed', null, 'boom'],
    ]);
    expect(runs.every((r) => r.finished_at !== null)).toBe(true);
    expect((await audits('training.start')).map((d) => [d.run, d.kind])).toEqual([[full, 'full'], [online, 'online'], [bad, 'full']]);
    expect((await audits('training.failed'))[0]).toMatchObject({ run: bad, error: 'boom' });
    await expect(t.owner.query(`update training_runs set kind = 'partial' where id = $1`, [full])).rejects.toThrow(/training_runs_kind_check/);
  });

  it('migration 0013 derives the cursor and the lineage of models stored before it', async () => {
    // The registry as it was before 0013 (this file's database only), with rows the old code wrote.
    await t.owner.query(`delete from models`);
    await t.owner.query(`drop index models_lineage_idx; alter table models drop column trained_through, drop column lineage`);
    await t.owner.query(`drop index training_runs_kind_started_idx; alter table training_runs drop constraint training_runs_kind_check, drop column kind`);
    const old = (version: string, dataTo: number, status: string, horizon = 24) =>
      t.owner.query(`insert into models (version, kind, params, feature_set_hash, data_from, data_to, metrics, blob, status) values ($1, 'gbt', $2, $3, $4, $5, $6, $7, $8)`, [
        version,
        { trees: 10, horizonBars: horizon },
        'a'.repeat(64),
        new Date(T0 - 1000 * H),
        new Date(dataTo),
        cv,
        { model: {}, trainedAt: T0, dataWindow: { from: T0 - 1000 * H, to: dataTo, pairs: ['BTC/USD'], rows: 900 } },
        status,
      ]);
    await old('gbt-old', T0, 'retired');
    await old('gbt-old.u1', T0 + 24 * H, 'retired');
    await old('gbt-old.u2', T0 + 48 * H, 'champion', 12);
    await t.owner.query(`delete from training_runs`);
    await t.owner.query(`insert into training_runs (trigger, status, started_at) values ('manual', 'succeeded', now())`);
    for (const stmt of readFileSync(new URL('../../schema/migrations/0013_model_lineage.sql', import.meta.url), 'utf8').split('--> statement-breakpoint')) await t.owner.query(stmt);
    const rows = (await t.owner.query(`select version, lineage, trained_through from models order by version`)).rows;
    expect(rows).toEqual([
      { version: 'gbt-old', lineage: 'gbt-old', trained_through: new Date(T0 + 25 * H) },
      { version: 'gbt-old.u1', lineage: 'gbt-old', trained_through: new Date(T0 + 49 * H) },
      { version: 'gbt-old.u2', lineage: 'gbt-old', trained_through: new Date(T0 + 61 * H) },
    ]);
    expect((await loadChampion(t.app.db))).toMatchObject({ version: 'gbt-old.u2', lineage: 'gbt-old', trainedThrough: T0 + 61 * H, trainedAt: T0 });
    expect((await loadLineage(t.app.db, 'gbt-old')).map((m) => m.version)).toEqual(['gbt-old', 'gbt-old.u1', 'gbt-old.u2']);
    expect((await t.owner.query(`select kind from training_runs`)).rows).toEqual([{ kind: null }]);
    expect(await lastFullRun(t.app.db)).toBeNull(); // runs from before 0013 have no kind: the champion's trainedAt paces instead
  });
});
