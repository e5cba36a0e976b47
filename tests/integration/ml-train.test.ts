import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { withAccount } from '../../lib/db/scope.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { repoCandles } from '../helpers/candles.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { forwardLabels } from '../../lib/ml/labels.ts';
import { loadChampion, trainedModelOf } from '../../lib/ml/registry-store.ts';
import { mlProvider } from '../../lib/cycle/ml-provider.ts';
import { loadSignals } from '../../lib/cycle/live-store.ts';
import type { TrainJobOptions } from '../../lib/ml/train-job.ts';
import { DEFAULT_TRAIN_OPTIONS } from '../../lib/ml/train.ts';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';
import { jobRequest } from '../../lib/queue/dispatcher.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as trainApp } from '../../functions/train/handler.ts';
import { TEST_JOB_KEY, testContext } from '../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/** The train function end to end on the repository's candles in the store: small (2 pairs × 2,000 bars, few trees). */
const PAIRS = ['BTC/USD', 'ETH/USD'];
const FROM = Date.parse('2022-01-01T00:00:00Z');
const BARS = 2000;
const HELD_BACK = 100; // inserted later, for the online update
const HOUR = 3_600_000;
const closeOf = (c: Candle) => c.openTime + c.interval * 1000;

let t: TestDatabase;
let queue: QueueClient;
let account: Account;
const candles: Record<string, Candle[]> = {};
const clock = new VirtualClock(0);

const SMALL: Partial<TrainJobOptions> = {
  train: { ...DEFAULT_TRAIN_OPTIONS, model: { kind: 'gbt', params: { trees: 12, minLeaf: 60 } }, cv: { folds: 3, initialTrainFraction: 0.4, embargoMs: 24 * HOUR, trainSide: 'past' } },
  fullRetrainEveryMs: 1e12, // scheduled runs do online updates unless drift says otherwise
  drift: { brierIncrease: 0.02, psi: 1e9, minOutcomes: 200, minRows: 200 }, // PSI switched off: the Brier test alone decides here
};

beforeAll(async () => {
  t = await createTestDatabase();
  queue = await openQueueClient({ databaseUrl: t.url, onError: () => undefined });
  for (const p of PAIRS) candles[p] = repoCandles(p).filter((c) => c.openTime >= FROM && c.openTime < FROM + BARS * HOUR);
  for (const p of PAIRS) await upsertCandles(t.app.db, candles[p]!.slice(0, -HELD_BACK), 'csv');
  clock.set(closeOf(candles['BTC/USD']!.at(-HELD_BACK - 1)!));
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
const runs = async () => (await t.owner.query(`select trigger, status, model_version, promoted, error from training_runs order by started_at, id`)).rows;
const actions = async () => (await t.owner.query(`select action from audit_log where action like 'model.%' or action like 'training.%' order by id`)).rows.map((r) => r.action);

describe('train function', () => {
  it('trains on the stored candles of the traded pairs and promotes the first champion', async () => {
    const ctx = testContext(t.app.db, queue, { clock });
    const out = await post(trainApp(ctx, SMALL), { trigger: 'manual' });
    expect(out.training).toMatchObject({ trigger: 'manual', kind: 'full', pairs: PAIRS, folds: 3, promoted: true });
    expect(out.training.rows).toBeGreaterThan(2000);
    expect(out.training.metrics.logLoss).toBeGreaterThan(0);
    expect(out.adaptation).toEqual([expect.objectContaining({ account: 'ml-one', trades: 0, changed: false })]);
    const champion = await loadChampion(t.app.db);
    expect(champion?.version).toBe(out.training.version);
    expect(champion!.dataWindow.to).toBeLessThan(clock.now()); // labels known by now only
    expect(await runs()).toEqual([{ trigger: 'manual', status: 'succeeded', model_version: out.training.version, promoted: 'promoted', error: null }]);
    expect(await actions()).toEqual(['training.start', 'model.train', 'model.promote', 'training.finish']);
  }, 120_000);

  it('refuses a challenger that is not better than the champion on the same folds', async () => {
    const ctx = testContext(t.app.db, queue, { clock: new VirtualClock(clock.now() + 1) });
    const before = (await loadChampion(t.app.db))!.version;
    const out = await post(trainApp(ctx, SMALL), { trigger: 'manual' });
    // Same data, same configuration: equal log-loss, short of the margin.
    expect(out.training).toMatchObject({ kind: 'full', promoted: false });
    expect(out.training.championMetrics.window).toEqual(out.training.metrics.window);
    expect(out.training.reason).toMatch(/not lower than champion/);
    expect((await loadChampion(t.app.db))!.version).toBe(before);
    expect((await runs()).at(-1)).toMatchObject({ trigger: 'manual', status: 'succeeded', promoted: 'refused' });
    expect((await actions()).slice(-3)).toEqual(['model.train', 'model.refused', 'training.finish']);
  }, 120_000);

  it('score writes the champion\'s signals (with its version) and the baseline\'s for the bar', async () => {
    const ctx = testContext(t.app.db, queue, { clock });
    const champion = (await loadChampion(t.app.db))!.version;
    const barTime = candles['BTC/USD']!.at(-HELD_BACK - 1)!.openTime;
    const out = await post(scoreApp(ctx), { barTime, pairs: PAIRS }, 'score');
    expect(out.providers).toEqual([`ml:${champion}`, 'baseline']);
    const rows = (await t.owner.query(`select pair, model_version from signals where ts = $1 order by pair, model_version`, [new Date(barTime)])).rows;
    expect(rows).toEqual(PAIRS.flatMap((pair) => [{ pair, model_version: 'baseline-v1' }, { pair, model_version: champion }].sort((a, b) => (a.model_version < b.model_version ? -1 : 1))));
    // The stored signal (window loaded by score) equals the provider's on the whole history (the backtest's view).
    const record = (await loadChampion(t.app.db))!;
    const asOf = barTime + HOUR;
    const upTo = Object.fromEntries(PAIRS.map((p) => [p, candles[p]!.filter((c) => closeOf(c) <= asOf)]));
    const stored = (await t.owner.query(`select pair, prob_up from signals where ts = $1 and model_version = $2 order by pair`, [new Date(barTime), champion])).rows;
    for (const r of stored) expect(r.prob_up).toBeCloseTo(mlProvider(trainedModelOf(record), champion).signal(upTo[r.pair]!, asOf, upTo)!.probUp, 6);
    // The order step reads the model's signal, not the baseline's.
    const loaded = await withAccount(t.app.db, account.id, (tx) => loadSignals(tx, PAIRS, barTime));
    for (const p of PAIRS) expect(loaded[p]?.modelVersion).toBe(champion);
  }, 60_000);

  it('a scheduled run between retrains updates the champion online as a new version', async () => {
    for (const p of PAIRS) await upsertCandles(t.app.db, candles[p]!.slice(-HELD_BACK), 'csv');
    clock.set(closeOf(candles['BTC/USD']!.at(-1)!));
    const before = (await loadChampion(t.app.db))!;
    const out = await post(trainApp(testContext(t.app.db, queue, { clock }), SMALL), { trigger: 'schedule' });
    expect(out.training).toMatchObject({ trigger: 'schedule', kind: 'online', version: `${before.version}.u1` });
    expect(out.training.drift.retrain).toBe(false);
    const after = (await loadChampion(t.app.db))!;
    expect(after.version).toBe(`${before.version}.u1`);
    expect(after.dataWindow.to).toBeGreaterThan(before.dataWindow.to);
    expect(after.trainedAt).toBe(before.trainedAt); // the full-retrain cadence counts from the full fit
    expect((await t.owner.query(`select status from models where version = $1`, [before.version])).rows[0].status).toBe('retired');
    expect((await runs()).at(-1)).toMatchObject({ trigger: 'schedule', status: 'succeeded', promoted: 'updated' });
    expect(await actions()).toContain('model.update');
  }, 120_000);

  it('drift: confidently wrong champion signals make the rolling Brier bad and a drift run is recorded', async () => {
    const champion = (await loadChampion(t.app.db))!.version;
    const now = clock.now();
    for (const p of PAIRS) {
      const cs = candles[p]!;
      const labels = forwardLabels(cs, { horizonBars: 24, feeRate: DEFAULT_TRAIN_OPTIONS.label.feeRate });
      const values = cs.flatMap((c, i) => {
        const l = labels[i];
        if (!l || l.endTime > now || i < cs.length - 400) return [];
        return [`('${p}', '${new Date(c.openTime).toISOString()}', '${champion}', ${1 - l.y}, 0, 24, 'sideways', '{}', 0.01, 0.01)`];
      });
      await t.owner.query(`insert into signals (pair, ts, model_version, prob_up, expected_return, horizon_bars, regime, regime_probs, volatility, atr_pct) values ${values.join(',')} on conflict do nothing`);
    }
    const out = await post(trainApp(testContext(t.app.db, queue, { clock: new VirtualClock(now + 1) }), SMALL), { trigger: 'schedule' });
    expect(out.training).toMatchObject({ trigger: 'drift', kind: 'full' });
    expect(out.training.drift.brier).toBeGreaterThan(0.9);
    expect(out.training.drift.reasons.join(' ')).toMatch(/rolling Brier/);
    expect((await runs()).at(-1)).toMatchObject({ trigger: 'drift', status: 'succeeded' });
    const start = (await t.owner.query(`select details from audit_log where action = 'training.start' order by id desc limit 1`)).rows[0].details;
    expect(start).toMatchObject({ trigger: 'drift', kind: 'full' });
    expect(start.drift[0]).toMatch(/rolling Brier/);
  }, 120_000);

  it('answers "nothing to train on" (200, kind none, the reason) and records no run when BTC/USD history is missing', async () => {
    await t.owner.query(`delete from candles where pair = 'BTC/USD'`);
    const before = { runs: (await runs()).length, actions: await actions() };
    const ctx = testContext(t.app.db, queue, { clock: new VirtualClock(clock.now() + 2) });
    const res = await trainApp(ctx, SMALL).request('/', jobRequest({ jobKey: TEST_JOB_KEY, clock }, 'train', { trigger: 'manual' }));
    expect(res.status).toBe(200);
    const { training } = (await res.json()) as { training: { kind: string; run: string | null; reason: string } };
    expect(training).toMatchObject({ kind: 'none', run: null });
    expect(training.reason).toMatch(/BTC\/USD/);
    expect((await runs()).length).toBe(before.runs);
    expect(await actions()).toEqual(before.actions);
  }, 60_000);
});
