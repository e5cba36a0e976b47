import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { mlProvider } from '../../lib/cycle/ml-provider.ts';
import { loadSignals } from '../../lib/cycle/live-store.ts';
import { withAccount } from '../../lib/db/scope.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { forwardLabels } from '../../lib/ml/labels.ts';
import type { HoldoutComparison, ModelRecord } from '../../lib/ml/registry.ts';
import { loadChampion, loadModel, trainedModelOf } from '../../lib/ml/registry-store.ts';
import type { TrainJobOptions } from '../../lib/ml/train-job.ts';
import { DEFAULT_TRAIN_OPTIONS } from '../../lib/ml/train.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { jobRequest } from '../../lib/queue/dispatcher.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as trainApp } from '../../functions/train/handler.ts';
import { TEST_JOB_KEY, testContext } from '../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { cycleCandles } from '../helpers/regime-candles.ts';

/**
 * The learning loop end to end through the train and score functions, on synthetic candles whose
 * structure changes: 2,000 bars of a 96-bar cycle (regime A), then a faster, wider 40-bar cycle
 * (regime B) on which a model of A is confidently wrong. Bars are stored as time goes by; each step
 * is one train run at the wall time of the newest stored bar.
 */
const PAIRS = ['BTC/USD', 'ETH/USD'];
const HOUR = 3_600_000;
const START = Date.parse('2023-01-01T00:00:00Z');
const A = { bars: 2000, period: 96, amplitude: 0.06 };
const B = { bars: 600, period: 40, amplitude: 0.1 };
const candles: Record<string, Candle[]> = {
  'BTC/USD': cycleCandles('BTC/USD', START, [A, B], { seed: 1, price: 30_000 }),
  'ETH/USD': cycleCandles('ETH/USD', START, [A, B], { seed: 2, price: 2_000, phase: 1.3 }),
};
const closeOf = (c: Candle) => c.openTime + c.interval * 1000;

const OPTIONS: Partial<TrainJobOptions> = {
  maxBars: 5000,
  train: { ...DEFAULT_TRAIN_OPTIONS, model: { kind: 'gbt', params: { trees: 30, minLeaf: 40 } }, cv: { folds: 3, initialTrainFraction: 0.4, embargoMs: 24 * HOUR, trainSide: 'past' } },
  holdout: { evalBars: 120, minEvalBars: 48 },
};
/** Another spec, barely fitted: close to a constant. */
const WEAK: Partial<TrainJobOptions> = { ...OPTIONS, train: { ...OPTIONS.train, model: { kind: 'gbt', params: { trees: 2, learningRate: 0.02, minLeaf: 200 } } } };

let t: TestDatabase;
let queue: QueueClient;
let account: Account;
const clock = new VirtualClock(0);
let stored = 0;

/** Stores bars up to `n` of every pair and moves the wall clock to the newest one's close. */
async function storeUpTo(n: number): Promise<void> {
  for (const p of PAIRS) await upsertCandles(t.app.db, candles[p]!.slice(stored, n), 'csv');
  stored = n;
  clock.set(closeOf(candles['BTC/USD']![n - 1]!));
}

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  await storeUpTo(1500);
  account = await t.app.db.transaction(async (tx) => {
    const a = await createAccount(tx, { slug: 'ml-one', name: 'One', kind: 'other' }, null, clock);
    await seedAccount(tx, a.id, null, clock);
    return a;
  });
  await withAccount(t.app.db, account.id, async (tx) => {
    const s = await latestSettings(tx, account.id, 'trading');
    await putSettings(tx, account.id, 'trading', { ...s.value, pairs: PAIRS }, null, clock);
  });
});
afterAll(async () => {
  await queue?.close();
  await t?.drop();
});

/** A job call as the dispatcher makes it (signed with the test contexts' job key, at `clock`). */
const post = async (app: ReturnType<typeof trainApp>, body: unknown, fn = 'train') => {
  const res = await app.request('/', jobRequest({ jobKey: TEST_JOB_KEY, clock }, fn, body));
  const json = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
};
const train = async (trigger: string, options: Partial<TrainJobOptions> = OPTIONS) => (await post(trainApp(testContext(t.app.db, queue, { clock }), options), { trigger })).training;
/** The score function for the newest stored bar; its stored signals by pair and model version. */
const score = async () => {
  const barTime = candles['BTC/USD']![stored - 1]!.openTime;
  const out = await post(scoreApp(testContext(t.app.db, queue, { clock })), { barTime, pairs: PAIRS }, 'score');
  const rows = (await t.owner.query(`select pair, model_version, prob_up from signals where ts = $1 and model_version = $2 order by pair`, [new Date(barTime), out.providers[0].slice(3)])).rows;
  return { barTime, providers: out.providers as string[], probUp: Object.fromEntries(rows.map((r) => [r.pair, r.prob_up as number])) };
};
const runs = async () => (await t.owner.query(`select trigger, kind, status, model_version, promoted, error from training_runs order by started_at, id`)).rows;
const decisions = async () => (await t.owner.query(`select action, details from audit_log where action in ('model.promote', 'model.refused', 'model.update') order by id`)).rows;
const champion = async (): Promise<ModelRecord> => (await loadChampion(t.app.db))!;

const versions: Record<string, string> = {};

describe('the learning loop (train and score functions)', () => {
  it('promotes the first champion: it beats the base rate out of sample and makes money in the simulated live cycle, more than the baseline', async () => {
    const out = await train('manual');
    expect(out).toMatchObject({ trigger: 'manual', kind: 'full', pairs: PAIRS, folds: 3, promoted: true });
    expect(out.reason).toMatch(/^no champion yet; simulated [\d.]+ % vs baseline -?[\d.]+ % over \d+ held-out rows$/);
    const h = out.comparison as HoldoutComparison;
    expect(h).toMatchObject({ champion: null, comparator: null, simulation: { accounts: ['ml-one'] } });
    expect(h.challenger.logLoss).toBeLessThan(h.baseRate.logLoss);
    expect(h.simulation.challenger).toBeGreaterThan(Math.max(0, h.simulation.baseline));
    expect(h.simulation.challengerTrades).toBeGreaterThan(0);
    // Held out: the newest 120 labelled bars, simulated up to the newest closed bar.
    expect(h.window.to).toBe(clock.now() - 24 * HOUR);
    expect(h.window.to - h.window.from).toBe(119 * HOUR);
    expect(h.simulation.window).toEqual({ from: h.window.from, to: clock.now() });
    const c = await champion();
    expect(c.version).toBe(out.version);
    expect(c.lineage).toBe(c.version);
    // Promoted, it was refitted on every labelled row: its cursor is the newest label end, now.
    expect(c.trainedThrough).toBe(clock.now());
    expect(c.trainedAt).toBe(clock.now());
    expect(c.metrics.holdout).toEqual(h);
    versions.first = c.version;
    // Live: score stores the champion's signals (with its version) beside the baseline's; the order step reads the model's.
    const s = await score();
    expect(s.providers).toEqual([`ml:${c.version}`, 'baseline']);
    const loaded = await withAccount(t.app.db, account.id, (tx) => loadSignals(tx, PAIRS, s.barTime));
    for (const p of PAIRS) expect(loaded[p]).toMatchObject({ modelVersion: c.version, probUp: s.probUp[p] });
    expect(await runs()).toEqual([{ trigger: 'manual', kind: 'full', status: 'succeeded', model_version: out.version, promoted: 'promoted', error: null }]);
  }, 120_000);

  it('with nothing new the champion has not learned, a full retrain cannot compare and writes nothing', async () => {
    clock.set(clock.now() + 1);
    const out = await train('manual');
    expect(out).toMatchObject({ kind: 'none', run: null, promoted: false });
    expect(out.reason).toMatch(new RegExp(`\\(${versions.first}\\) has learned all but 0 labelled bars: fewer than 48`));
    expect((await runs()).length).toBe(1);
  }, 60_000);

  it('refuses a worse challenger (another spec): judged against the champion\'s frozen weights on bars neither learned', async () => {
    await storeUpTo(1650);
    const out = await train('manual', WEAK);
    expect(out).toMatchObject({ kind: 'full', promoted: false });
    const h = out.comparison as HoldoutComparison;
    expect(h.comparator).toMatchObject({ version: versions.first, sameSpec: false, sameLabel: true });
    // The champion learned nothing decided in the window; the challenger nothing either (fitted before it).
    expect(h.comparator!.trainedThrough).toBeLessThanOrEqual(h.window.from);
    const refused = await loadModel(t.app.db, out.version);
    expect(refused).toMatchObject({ status: 'challenger' });
    expect(refused!.trainedThrough).toBeLessThanOrEqual(h.window.from);
    expect(h.challenger.logLoss).toBeGreaterThan(h.comparator!.scores.logLoss + 0.002);
    expect(out.reason).toContain(`new spec: held-out log-loss ${h.challenger.logLoss.toFixed(4)} vs ${versions.first}'s frozen ${h.comparator!.scores.logLoss.toFixed(4)}: not lower by 0.002`);
    expect((await champion()).version).toBe(versions.first);
    const last = (await decisions()).at(-1)!;
    expect(last).toMatchObject({ action: 'model.refused', details: { challenger: out.version, champion: versions.first, comparator: versions.first, reason: out.reason } });
    expect(last.details.holdout.simulation).toMatchObject({ accounts: ['ml-one'], challenger: h.simulation.challenger, baseline: h.simulation.baseline, champion: h.simulation.champion });
    expect((await runs()).at(-1)).toMatchObject({ kind: 'full', status: 'succeeded', promoted: 'refused' });
  }, 120_000);

  it('promotes a same-spec refresh that is not worse: the champion moves on to newer data', async () => {
    const before = await champion();
    clock.set(clock.now() + 1);
    const out = await train('manual');
    const h = out.comparison as HoldoutComparison;
    expect(h.comparator).toMatchObject({ version: before.version, sameSpec: true });
    expect(h.challenger.logLoss).toBeLessThanOrEqual(h.comparator!.scores.logLoss + 0.002);
    expect(out).toMatchObject({ kind: 'full', promoted: true });
    expect(out.reason).toMatch(new RegExp(`^same-spec refresh: held-out log-loss [\\d.]+ vs ${before.version}'s frozen [\\d.]+; simulated`));
    const after = await champion();
    expect(after.version).toBe(out.version);
    expect(after.trainedAt).toBeGreaterThan(before.trainedAt);
    expect(after.trainedThrough).toBeGreaterThan(before.trainedThrough);
    versions.refresh = after.version;
  }, 120_000);

  it('a scheduled run between full retrains updates the champion online: trainedAt and the data cursor advance', async () => {
    await storeUpTo(1698);
    const before = await champion();
    const beforeScore = await score();
    expect(beforeScore.providers).toEqual([`ml:${before.version}`, 'baseline']);
    const out = await train('schedule');
    expect(out).toMatchObject({ trigger: 'schedule', kind: 'online', version: `${before.version}.u1`, rows: 2 * 48 });
    expect(out.drift.retrain).toBe(false);
    const after = await champion();
    expect(after).toMatchObject({ version: `${before.version}.u1`, lineage: before.lineage, trainedAt: clock.now(), trainedThrough: clock.now() });
    expect(after.trainedThrough - before.trainedThrough).toBe(48 * HOUR);
    expect(after.dataWindow.to - before.dataWindow.to).toBe(48 * HOUR);
    expect((await t.owner.query(`select status from models where version = $1`, [before.version])).rows[0].status).toBe('retired');
    expect((await runs()).at(-1)).toMatchObject({ trigger: 'schedule', kind: 'online', status: 'succeeded', promoted: 'updated' });
    expect((await decisions()).at(-1)).toMatchObject({ action: 'model.update', details: { from: before.version, to: after.version, trainedThrough: { from: before.trainedThrough, to: after.trainedThrough } } });
    // The score function picks the updated weights up: same candles, new version, other probabilities.
    const s = await score();
    expect(s.providers[0]).toBe(`ml:${after.version}`);
    expect(Object.keys(s.probUp)).toEqual(PAIRS);
    for (const p of PAIRS) expect(s.probUp[p]).not.toBe(beforeScore.probUp[p]);
    versions.online = after.version;
  }, 120_000);

  it('a regime change: drift triggers a retrain, the champion is replaced and the live signal changes', async () => {
    await storeUpTo(2000 + 500);
    const old = await champion();
    const before = await score();
    expect(before.providers[0]).toBe(`ml:${versions.online}`);
    const out = await train('schedule');
    expect(out).toMatchObject({ trigger: 'drift', kind: 'full', promoted: true });
    expect(out.drift.retrain).toBe(true);
    expect(out.drift.reasons.join(' ')).toMatch(/PSI of/);
    const h = out.comparison as HoldoutComparison;
    // The comparator is the online-updated champion, frozen as it stood before the window (it has learned regime A only).
    expect(h.comparator).toMatchObject({ version: versions.online, trainedThrough: old.trainedThrough, sameSpec: true });
    expect(h.window.from).toBeGreaterThan(closeOf(candles['BTC/USD']![A.bars - 1]!));
    expect(h.challenger.logLoss).toBeLessThan(h.comparator!.scores.logLoss - 0.1);
    expect(h.simulation.challenger).toBeGreaterThan(Math.max(0, h.simulation.baseline));
    expect(h.simulation.champion).not.toBeNull();
    const now = await champion();
    expect(now.version).toBe(out.version);
    expect(now.lineage).toBe(out.version);
    expect((await t.owner.query(`select status from models where version = $1`, [versions.online])).rows[0].status).toBe('retired');
    // Live: the score function now scores the same candles with the new champion, and differently.
    const after = await score();
    expect(after.barTime).toBe(before.barTime);
    expect(after.providers).toEqual([`ml:${now.version}`, 'baseline']);
    const moved = PAIRS.map((p) => Math.abs(after.probUp[p]! - before.probUp[p]!));
    expect(Math.max(...moved)).toBeGreaterThan(0.05);
    // The stored signal is the new champion's provider on the candles up to the bar.
    const asOf = before.barTime + HOUR;
    const upTo = Object.fromEntries(PAIRS.map((p) => [p, candles[p]!.filter((c) => closeOf(c) <= asOf)]));
    for (const p of PAIRS) expect(after.probUp[p]).toBeCloseTo(mlProvider(trainedModelOf(now), now.version).signal(upTo[p]!, asOf, upTo)!.probUp, 6);
    const start = (await t.owner.query(`select details from audit_log where action = 'training.start' order by id desc limit 1`)).rows[0].details;
    expect(start).toMatchObject({ trigger: 'drift', kind: 'full', holdout: { comparator: versions.online } });
    versions.regime = now.version;
  }, 180_000);

  it('the audit shows every promotion and refusal with its reason, in order', async () => {
    const d = (await decisions()).filter((r) => r.action !== 'model.update');
    expect(d.map((r) => [r.action, r.details.challenger, r.details.comparator])).toEqual([
      ['model.promote', versions.first, null],
      ['model.refused', expect.any(String), versions.first],
      ['model.promote', versions.refresh, versions.first],
      ['model.promote', versions.regime, versions.online],
    ]);
    expect(d.map((r) => r.details.reason)).toEqual([
      expect.stringMatching(/^no champion yet/),
      expect.stringMatching(/new spec: .* not lower by 0.002/),
      expect.stringMatching(/^same-spec refresh: /),
      expect.stringMatching(/^same-spec refresh: /),
    ]);
    for (const r of d) expect(r.details.holdout.simulation).toEqual({ window: expect.any(Object), accounts: ['ml-one'], challenger: expect.any(Number), champion: r.details.comparator ? expect.any(Number) : null, baseline: expect.any(Number), buyHold: expect.any(Number), challengerTrades: expect.any(Number), baselineTrades: expect.any(Number) });
  });

  it('drift right after a retrain, with nothing unseen to compare on, gives way to an online update (the champion keeps learning)', async () => {
    const c = await champion();
    const now = clock.now();
    // Confidently wrong signals of the champion's lineage over the last 400 labelled bars: a terrible rolling Brier.
    for (const p of PAIRS) {
      const cs = candles[p]!.slice(0, stored);
      const labels = forwardLabels(cs, { horizonBars: 24, feeRate: DEFAULT_TRAIN_OPTIONS.label.feeRate });
      const values = cs.flatMap((x, i) => {
        const l = labels[i];
        if (!l || l.endTime > now || i < cs.length - 400) return [];
        return [`('${p}', '${new Date(x.openTime).toISOString()}', '${c.version}', ${1 - l.y}, 0, 24, 'sideways', '{}', 0.01, 0.01)`];
      });
      await t.owner.query(`insert into signals (pair, ts, model_version, prob_up, expected_return, horizon_bars, regime, regime_probs, volatility, atr_pct) values ${values.join(',')} on conflict do nothing`);
    }
    // Six more bars: their rows are labelled 24 bars later, so none is unseen and labelled yet; the
    // six rows whose labels they complete are what the online update learns.
    await storeUpTo(stored + 6);
    const out = await train('schedule', { ...OPTIONS, drift: { brierIncrease: 0.02, psi: 1e9, minOutcomes: 200, minRows: 200 } });
    expect(out.drift.brier).toBeGreaterThan(0.9);
    expect(out.drift.reasons.join(' ')).toMatch(/rolling Brier/);
    expect(out).toMatchObject({ kind: 'online', version: `${c.version}.u1`, rows: 2 * 6 });
    expect(out.reason).toMatch(/^full retrain deferred \(.* has learned all but 0 labelled bars: fewer than 48 .*\); online update on 12 new rows$/);
    expect((await champion()).trainedThrough).toBe(clock.now());
  }, 120_000);

  it('answers "nothing to train on" (200, kind none, the reason) and records no run when BTC/USD history is missing', async () => {
    await t.owner.query(`delete from candles where pair = 'BTC/USD'`);
    const before = { runs: (await runs()).length, decisions: (await decisions()).length };
    const training = await train('manual');
    expect(training).toMatchObject({ kind: 'none', run: null });
    expect(training.reason).toMatch(/BTC\/USD/);
    expect((await runs()).length).toBe(before.runs);
    expect((await decisions()).length).toBe(before.decisions);
  }, 60_000);
});
