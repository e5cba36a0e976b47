import { describe, expect, it } from 'vitest';
import { rng } from '../../../lib/ml/math.ts';
import { auc, logLoss } from '../../../lib/ml/metrics.ts';
import { GbtModel, LogisticModel, classifierFromJSON } from '../../../lib/ml/models/index.ts';
import { DEFAULT_GBT_PARAMS } from '../../../lib/ml/models/gbt.ts';

function linearData(n: number, seed: number) {
  const r = rng(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = [r() * 2 - 1, (r() * 2 - 1) * 100, r()];
    const z = 3 * x[0]! - 0.02 * x[1]! + 0.5;
    X.push(x);
    y.push(r() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
  }
  return { X, y };
}

function xorData(n: number, seed: number) {
  const r = rng(seed);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = [r() * 2 - 1, r() * 2 - 1];
    X.push(x);
    y.push(x[0]! * x[1]! > 0 ? 1 : 0);
  }
  return { X, y };
}

const small = { ...DEFAULT_GBT_PARAMS, trees: 40, minLeaf: 20, maxDepth: 3 };

describe('LogisticModel', () => {
  it('recovers the generating coefficients (in raw units) on a linear problem', () => {
    const { X, y } = linearData(20_000, 1);
    const m = LogisticModel.fit(X, y, { l2: 1e-6, maxIter: 50, tol: 1e-10 });
    const raw = Array.from(m.weights, (w, j) => w / m.standardizer.scale[j]!);
    expect(raw[0]).toBeCloseTo(3, 0);
    expect(raw[1]).toBeCloseTo(-0.02, 2);
    expect(Math.abs(raw[2]!)).toBeLessThan(0.2);
  });

  it('L2 shrinks the weights', () => {
    const { X, y } = linearData(2000, 2);
    const loose = LogisticModel.fit(X, y, { l2: 1e-6, maxIter: 50, tol: 1e-10 });
    const tight = LogisticModel.fit(X, y, { l2: 1, maxIter: 50, tol: 1e-10 });
    const norm = (m: LogisticModel) => Math.hypot(...m.weights);
    expect(norm(tight)).toBeLessThan(norm(loose) / 2);
  });

  it('round-trips through JSON with identical predictions', () => {
    const { X, y } = linearData(1000, 3);
    const m = LogisticModel.fit(X, y);
    const back = classifierFromJSON(JSON.parse(JSON.stringify(m.toJSON())));
    for (const x of X.slice(0, 50)) expect(back.predictProba(x)).toBe(m.predictProba(x));
  });

  it('an online SGD update moves the model towards new rows without touching the original', () => {
    const { X, y } = linearData(2000, 4);
    const m = LogisticModel.fit(X, y);
    const flipped = y.map((v) => 1 - v);
    const before = logLoss(X.map((x) => m.predictProba(x)), flipped);
    const u = m.sgdUpdate(X.slice(0, 500), flipped.slice(0, 500), { learningRate: 0.05, epochs: 3 });
    expect(logLoss(X.map((x) => u.predictProba(x)), flipped)).toBeLessThan(before);
    expect(logLoss(X.map((x) => m.predictProba(x)), flipped)).toBe(before);
  });

  it('refuses mismatched inputs and a corrupt JSON', () => {
    expect(() => LogisticModel.fit([[1]], [1, 0])).toThrow(/matching/);
    const j = LogisticModel.fit([[0], [1], [2], [3]], [0, 1, 0, 1]).toJSON();
    expect(() => LogisticModel.fromJSON({ ...j, weights: [1, 2] })).toThrow(/feature count/);
  });
});

describe('GbtModel', () => {
  it('learns a non-linear (XOR) problem the linear model cannot', () => {
    const tr = xorData(4000, 5);
    const te = xorData(2000, 6);
    const g = GbtModel.fit(tr.X, tr.y, small);
    const l = LogisticModel.fit(tr.X, tr.y);
    expect(auc(te.X.map((x) => g.predictProba(x)), te.y)).toBeGreaterThan(0.95);
    expect(auc(te.X.map((x) => l.predictProba(x)), te.y)).toBeLessThan(0.6);
  });

  it('is deterministic given a seed, and the seed matters', () => {
    const { X, y } = linearData(3000, 7);
    const a = GbtModel.fit(X, y, { ...small, seed: 11 });
    const b = GbtModel.fit(X, y, { ...small, seed: 11 });
    const c = GbtModel.fit(X, y, { ...small, seed: 12 });
    expect(JSON.stringify(a.toJSON())).toBe(JSON.stringify(b.toJSON()));
    expect(JSON.stringify(a.toJSON())).not.toBe(JSON.stringify(c.toJSON()));
  });

  it('round-trips through JSON with identical predictions', () => {
    const { X, y } = xorData(2000, 8);
    const g = GbtModel.fit(X, y, small);
    const back = classifierFromJSON(JSON.parse(JSON.stringify(g.toJSON())));
    expect(back.kind).toBe('gbt');
    for (const x of X.slice(0, 100)) expect(back.predictProba(x)).toBe(g.predictProba(x));
  });

  it('rejects an unknown kind and a tree splitting on a missing feature', () => {
    expect(() => classifierFromJSON({ kind: 'svm' })).toThrow(/unknown model kind/);
    const j = GbtModel.fit(xorData(500, 9).X, xorData(500, 9).y, small).toJSON();
    expect(() => GbtModel.fromJSON({ ...j, nFeatures: 1 })).toThrow(/feature/);
  });
});
