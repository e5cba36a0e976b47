import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { purgedFolds } from '../../../lib/ml/cv.ts';
import { buildRows } from '../../../lib/ml/dataset.ts';
import { DEFAULT_FEATURE_PARAMS, FeatureState } from '../../../lib/ml/features.ts';
import { DEFAULT_LABEL_OPTIONS } from '../../../lib/ml/labels.ts';
import { MlSignalModel } from '../../../lib/ml/signalModel.ts';
import { TrainedModel } from '../../../lib/ml/trained.ts';
import { DEFAULT_TRAIN_OPTIONS, train } from '../../../lib/ml/train.ts';
import { walkForwardBacktest } from '../../../lib/ml/walkforward.ts';
import { onlineUpdate } from '../../../lib/ml/online.ts';
import { challengerRecord, cvMetrics, modelRecordSchema } from '../../../lib/ml/registry.ts';
import { logLoss } from '../../../lib/ml/metrics.ts';
import { slice } from './realData.ts';

const data = {
  'BTC/USD': slice('BTC/USD', '2021-06-01', '2021-10-15'),
  'ETH/USD': slice('ETH/USD', '2021-06-01', '2021-10-15'),
};
const cv = { folds: 3, initialTrainFraction: 0.4, embargoMs: 24 * 3_600_000, trainSide: 'past' as const };
const gbtSmall = { kind: 'gbt' as const, params: { trees: 30, minLeaf: 50 } };

describe('train', () => {
  const { model, metrics, folds } = train(data, { model: { kind: 'logistic' }, cv });

  it('reports per-fold out-of-sample metrics and a fitted, serialisable model', () => {
    expect(folds).toHaveLength(3);
    for (const f of folds) {
      expect(f.auc).toBeGreaterThan(0);
      expect(f.auc).toBeLessThan(1);
      expect(f.logLoss).toBeGreaterThan(0);
      expect(f.brier).toBeGreaterThan(0);
      expect(f.purged).toBeGreaterThan(0);
      expect(f.perPair.map((p) => p.pair).sort()).toEqual(['BTC/USD', 'ETH/USD']);
    }
    expect(metrics.folds).toBe(3);
    expect(model.data.featureSetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(model.data.reference.brier).toBeCloseTo(metrics.brier, 12);
    expect(model.data.window.pairs).toEqual(['BTC/USD', 'ETH/USD']);
  });

  it('reports the constant base-rate scores each fold must beat', () => {
    for (const f of folds) {
      expect(f.baseRateLogLoss).toBeGreaterThan(0.5);
      expect(f.baseRateBrier).toBeGreaterThan(0.15);
    }
    expect(metrics.baseRateLogLoss).toBeCloseTo(folds.reduce((a, f) => a + f.baseRateLogLoss, 0) / folds.length, 12);
  });

  it('becomes a challenger record (its own lineage, its data cursor) that reads back as stored', () => {
    const res = train(data, { model: { kind: 'logistic' }, cv });
    const cursor = Math.max(...buildRows(data).filter((r) => r.y !== null).map((r) => r.labelEnd));
    const r = challengerRecord(res.model, { version: 'logistic-v1', trainedAt: 1, trainedThrough: cursor, metrics: cvMetrics(res.metrics, res.folds) });
    expect(r).toMatchObject({ version: 'logistic-v1', lineage: 'logistic-v1', kind: 'logistic', status: 'challenger', featureSetHash: model.data.featureSetHash, trainedThrough: cursor });
    expect(r.params).toMatchObject({ horizonBars: 24, feeRate: DEFAULT_LABEL_OPTIONS.feeRate });
    expect(r.metrics).toMatchObject({ window: { from: folds[0]!.testFrom, to: folds[2]!.testTo }, folds: 3, baseRateLogLoss: res.metrics.baseRateLogLoss, logLoss: res.metrics.logLoss });
    const stored = modelRecordSchema.parse(JSON.parse(JSON.stringify(r)));
    expect(stored).toEqual(JSON.parse(JSON.stringify(r)));
    expect(() => modelRecordSchema.parse({ ...stored, status: 'live' })).toThrow();
    expect(() => modelRecordSchema.parse({ ...stored, metrics: { ...stored.metrics, logLoss: null } })).toThrow(); // NaN stored as null
    expect(TrainedModel.fromJSON(r.model).predictProba(buildRows(data)[0]!.x)).toBe(model.predictProba(buildRows(data)[0]!.x));
  });

  it('round-trips through JSON with identical predictions (logistic and gbt)', () => {
    const g = train(data, { model: gbtSmall, cv: null }).model;
    const rows = buildRows(data).slice(0, 200);
    for (const m of [model, g]) {
      const back = TrainedModel.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
      expect(back.kind).toBe(m.kind);
      for (const r of rows) expect(back.predictProba(r.x)).toBe(m.predictProba(r.x));
    }
    expect(() => TrainedModel.fromJSON({ ...model.toJSON(), featureSetHash: 'nope' })).toThrow();
  });

  it('is deterministic given the seed', () => {
    const a = train(data, { model: gbtSmall, cv: null }).model;
    const b = train(data, { model: gbtSmall, cv: null }).model;
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
  });

  it('folds on the real rows never train on a label that reaches the test block', () => {
    const rows = buildRows(data).filter((r) => r.y !== null);
    for (const f of purgedFolds(rows, cv)) {
      const maxEnd = Math.max(...f.train.map((i) => rows[i]!.labelEnd));
      expect(maxEnd).toBeLessThanOrEqual(f.testStart - cv.embargoMs);
      expect(f.embargoed).toBeGreaterThan(0);
      expect(f.test.every((i) => rows[i]!.time >= f.testStart && rows[i]!.time < f.testEnd)).toBe(true);
    }
  });
});

describe('onlineUpdate', () => {
  const rows = buildRows(data);
  const cutoff = rows[Math.floor(rows.length * 0.7)]!.time;
  const old = { 'BTC/USD': data['BTC/USD'].filter((c) => c.openTime <= cutoff), 'ETH/USD': data['ETH/USD'].filter((c) => c.openTime <= cutoff) };
  const fresh = rows.filter((r) => r.time > cutoff + 48 * 3_600_000 && r.y !== null);

  it.each([{ kind: 'logistic' as const }, gbtSmall])('$kind: fits the new rows better and leaves the original model alone', (spec) => {
    const m = train(old, { model: spec, cv: null }).model;
    const before = fresh.map((r) => m.predictProba(r.x));
    const u = onlineUpdate(m, fresh, { epochs: 3, learningRate: 0.01, trees: 10 });
    const ys = fresh.map((r) => r.y as number);
    expect(logLoss(fresh.map((r) => u.predictProba(r.x)), ys)).toBeLessThan(logLoss(before, ys));
    expect(fresh.map((r) => m.predictProba(r.x))).toEqual(before);
    expect(u.data.window.to).toBe(Math.max(...fresh.map((r) => r.time)));
  });

  it('refuses rows inside the training window or without labels', () => {
    const m = train(old, { model: { kind: 'logistic' }, cv: null }).model;
    expect(() => onlineUpdate(m, rows.slice(0, 10))).toThrow(/inside the training window/);
    expect(() => onlineUpdate(m, rows.filter((r) => r.y === null).slice(0, 1))).toThrow(/no label/);
  });
});

describe('MlSignalModel', () => {
  const { model } = train(data, { model: { kind: 'logistic' }, cv: null });
  const sm = new MlSignalModel(model, 'v-test');

  it('scores the incremental FeatureState exactly as the batch rows', () => {
    const rows = buildRows(data).filter((r) => r.pair === 'ETH/USD');
    const st = new FeatureState('ETH/USD');
    const btc = data['BTC/USD'];
    let j = 0;
    const byTime = new Map(rows.map((r) => [r.time, r]));
    let checked = 0;
    for (const c of data['ETH/USD']) {
      while (j < btc.length && (btc[j] as Candle).openTime <= c.openTime) st.pushBtc(btc[j++] as Candle);
      st.push(c);
      const s = sm.signal(st);
      const r = byTime.get(c.openTime);
      if (!r) {
        expect(s).toBeNull();
        continue;
      }
      expect(s).not.toBeNull();
      expect(s!.probUp).toBe(model.predictProba(r.x));
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('fills every Signal field', () => {
    const st = new FeatureState('BTC/USD');
    for (const c of data['BTC/USD']) st.push(c);
    const s = sm.signal(st)!;
    expect(s).toMatchObject({ pair: 'BTC/USD', time: data['BTC/USD'].at(-1)!.openTime, horizonBars: DEFAULT_LABEL_OPTIONS.horizonBars, modelVersion: 'v-test' });
    expect(s.probUp).toBeGreaterThan(0);
    expect(s.probUp).toBeLessThan(1);
    expect(s.volatility).toBeGreaterThan(0);
    expect(s.atrPct).toBeGreaterThan(0);
    expect(s.regime.probs.bull + s.regime.probs.bear + s.regime.probs.sideways).toBeCloseTo(1, 12);
    // More confidence in a cleared fee hurdle means a higher expected return.
    expect(model.expectedReturn(0.9)).toBeGreaterThan(model.expectedReturn(0.1));
  });

  it('refuses a FeatureState built with other feature parameters', () => {
    const st = new FeatureState('BTC/USD', { ...DEFAULT_FEATURE_PARAMS, rsiPeriod: 21 });
    expect(() => sm.signal(st)).toThrow(/feature set/);
  });
});

describe('walkForwardBacktest', () => {
  const opts = { ...DEFAULT_TRAIN_OPTIONS, model: { kind: 'logistic' as const }, retrainEveryBars: 240, minTrainBars: 1500, ema: [24, 96] as [number, number] };
  const full = walkForwardBacktest(data, opts);

  it('retrains on a fixed cadence with growing training sets and compares against buy-and-hold and the EMA baseline', () => {
    expect(full.retrains.length).toBeGreaterThan(3);
    for (let k = 1; k < full.retrains.length; k++) {
      expect(full.retrains[k]!.at - full.retrains[k - 1]!.at).toBe(240 * 3_600_000);
      expect(full.retrains[k]!.trainRows).toBeGreaterThan(full.retrains[k - 1]!.trainRows);
    }
    expect(full.perPair).toHaveLength(2);
    for (const p of full.perPair) {
      expect(Number.isFinite(p.strategy) && Number.isFinite(p.buyHold) && Number.isFinite(p.emaCrossover)).toBe(true);
      expect(p.from).toBeGreaterThanOrEqual(full.retrains[0]!.at - 3_600_000);
    }
  });

  it('no look-ahead: truncating the data at T leaves every prediction before T unchanged', () => {
    const key = (p: { pair: string; time: number }) => `${p.pair}@${p.time}`;
    const fullP = new Map(full.predictions.map((p) => [key(p), p.p]));
    const end = data['BTC/USD'].at(-1)!.openTime;
    for (const daysBack of [5, 13, 29]) {
      const T = end - daysBack * 86_400_000;
      const cut = { 'BTC/USD': data['BTC/USD'].filter((c) => c.openTime <= T), 'ETH/USD': data['ETH/USD'].filter((c) => c.openTime <= T) };
      const part = walkForwardBacktest(cut, opts);
      expect(part.predictions.length).toBeGreaterThan(500);
      for (const p of part.predictions) expect(p.p).toBe(fullP.get(key(p)));
    }
  });
});
