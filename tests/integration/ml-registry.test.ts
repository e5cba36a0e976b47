import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/clock.ts';
import type { ModelMetrics, ModelRecord } from '../../lib/ml/registry.ts';
import { finishTrainingRun, loadChampion, loadModel, registerChallenger, startTrainingRun } from '../../lib/ml/registry-store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const WINDOW = { from: Date.parse('2022-03-01T00:00:00Z'), to: Date.parse('2022-06-01T00:00:00Z') };
const metrics = (logLoss: number, netReturn = 0.01, window = WINDOW): ModelMetrics => ({ window, auc: 0.55, logLoss, brier: 0.24, netReturn, buyHoldReturn: -0.1, folds: 5 });
const record = (version: string, m: ModelMetrics): ModelRecord => ({
  version,
  kind: 'gbt',
  params: { trees: 10, horizonBars: 24 },
  featureSetHash: 'a'.repeat(64),
  dataWindow: { from: Date.parse('2021-01-01T00:00:00Z'), to: WINDOW.to, pairs: ['BTC/USD', 'ETH/USD'], rows: 4000 },
  metrics: m,
  model: { classifier: { kind: 'gbt' }, note: version },
  status: 'challenger',
  trainedAt: Date.parse('2022-06-02T00:00:00Z'),
});
const audits = async (action: string) => (await t.owner.query(`select details from audit_log where action = $1 order by id`, [action])).rows.map((r) => r.details);
const statuses = async (): Promise<Record<string, { status: string; promoted: boolean }>> => Object.fromEntries((await t.owner.query(`select version, status, promoted_at from models order by version`)).rows.map((r) => [r.version, { status: r.status, promoted: r.promoted_at !== null }]));

describe('model registry in the database', () => {
  const clock = new VirtualClock(Date.parse('2022-06-02T00:00:00Z'));

  it('promotes the first complete challenger and reads it back as saved', async () => {
    const a = record('gbt-a', metrics(0.69));
    const out = await registerChallenger(t.app.db, a, null, clock);
    expect(out.decision).toEqual({ promote: true, reason: 'no champion yet' });
    const champion = await loadChampion(t.app.db);
    expect(champion).toEqual({ ...a, status: 'champion' });
    expect(await statuses()).toEqual({ 'gbt-a': { status: 'champion', promoted: true } });
    expect((await audits('model.train')).map((d) => d.version)).toEqual(['gbt-a']);
    expect(await audits('model.promote')).toHaveLength(1);
  });

  it.each([
    ['not better by the margin', metrics(0.689), metrics(0.69), 'not lower than champion'],
    ['worse net return', metrics(0.68, -0.05), metrics(0.69, 0.01), 'worse than champion'],
    ['another evaluation window', metrics(0.6), metrics(0.69, 0.01, { from: WINDOW.from - 1, to: WINDOW.to }), 'different evaluation windows'],
  ])('refuses a challenger with %s and audits the metrics compared', async (_name, challengerM, championM, reason) => {
    const champion = (await loadChampion(t.app.db))!;
    const v = `gbt-refused-${challengerM.logLoss}-${challengerM.netReturn}-${championM.window.from}`;
    const out = await registerChallenger(t.app.db, record(v, challengerM), { record: champion, metricsOnChallengerWindow: championM }, clock);
    expect(out.decision.promote).toBe(false);
    expect(out.decision.reason).toContain(reason);
    expect((await loadChampion(t.app.db))!.version).toBe('gbt-a');
    expect((await loadModel(t.app.db, v))!.status).toBe('challenger');
    const refused = (await audits('model.refused')).at(-1);
    expect(refused).toMatchObject({ challenger: v, champion: 'gbt-a', metrics: { challenger: challengerM, champion: championM } });
  });

  it('promotes a better challenger: old champion retired, new one champion, in one audited step', async () => {
    const champion = (await loadChampion(t.app.db))!;
    const b = record('gbt-b', metrics(0.66, 0.02));
    const out = await registerChallenger(t.app.db, b, { record: champion, metricsOnChallengerWindow: metrics(0.69, 0.01) }, clock);
    expect(out).toMatchObject({ decision: { promote: true }, previousChampion: 'gbt-a' });
    const s = await statuses();
    expect(s['gbt-a']).toEqual({ status: 'retired', promoted: true });
    expect(s['gbt-b']).toEqual({ status: 'champion', promoted: true });
    expect(Object.values(s).filter((x) => x.status === 'champion')).toHaveLength(1);
    expect((await audits('model.promote')).at(-1)).toMatchObject({ challenger: 'gbt-b', champion: 'gbt-a' });
  });

  it('refuses to register against a champion that changed meanwhile, leaving nothing behind', async () => {
    const stale = record('gbt-a', metrics(0.69));
    await expect(registerChallenger(t.app.db, record('gbt-c', metrics(0.5)), { record: { ...stale, status: 'champion' }, metricsOnChallengerWindow: metrics(0.69) }, clock)).rejects.toThrow(/champion changed/);
    expect(await loadModel(t.app.db, 'gbt-c')).toBeNull();
  });

  it('records and audits training runs', async () => {
    const ok = await startTrainingRun(t.app.db, 'manual', clock);
    await finishTrainingRun(t.app.db, ok, { status: 'succeeded', modelVersion: 'gbt-b', promoted: 'promoted', metrics: { x: 1 } }, clock);
    const bad = await startTrainingRun(t.app.db, 'drift', clock);
    await finishTrainingRun(t.app.db, bad, { status: 'failed', error: 'boom' }, clock);
    const runs = (await t.owner.query(`select id, trigger, status, model_version, error, finished_at from training_runs order by started_at, trigger desc`)).rows;
    expect(runs.map((r) => [r.trigger, r.status, r.model_version, r.error])).toEqual([
      ['manual', 'succeeded', 'gbt-b', null],
      ['drift', 'failed', null, 'boom'],
    ]);
    expect(runs.every((r) => r.finished_at !== null)).toBe(true);
    expect((await audits('training.start')).map((d) => d.run)).toEqual([ok, bad]);
    expect((await audits('training.failed'))[0]).toMatchObject({ run: bad, error: 'boom' });
  });
});
