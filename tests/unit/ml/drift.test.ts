import { describe, expect, it } from 'vitest';
import { DriftMonitor, assessDrift, driftReference, psi } from '../../../lib/ml/drift.ts';
import { rng } from '../../../lib/ml/math.ts';

const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const rows = (n: number, seed: number, shift = 0) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => [gauss(r) + shift, r()]);
};
/** Calibrated predictions: outcomes drawn with probability p. */
const calibrated = (n: number, seed: number) => {
  const r = rng(seed);
  const probs = Array.from({ length: n }, () => 0.3 + 0.4 * r());
  return { probs, outcomes: probs.map((p) => (r() < p ? 1 : 0)) };
};

describe('drift', () => {
  const train = rows(5000, 1);
  const ref = driftReference(['a', 'b'], train, 0.23);

  it('PSI is ~0 for the same distribution and large for a shifted one', () => {
    const a = ref.edges[0]!;
    const e = ref.proportions[0]!;
    expect(psi(a, e, rows(2000, 2).map((x) => x[0]!))).toBeLessThan(0.05);
    expect(psi(a, e, rows(2000, 3, 1).map((x) => x[0]!))).toBeGreaterThan(0.25);
  });

  it('no retrain when recent data looks like training data', () => {
    const rep = assessDrift(ref, { X: rows(1000, 4), ...calibrated(1000, 5) });
    expect(rep.retrain).toBe(false);
    expect(rep.reasons).toEqual([]);
    expect(rep.brier).toBeGreaterThan(0.2);
  });

  it('a shifted feature triggers retrain with a PSI reason naming it', () => {
    const rep = assessDrift(ref, { X: rows(1000, 6, 1.5), ...calibrated(1000, 7) });
    expect(rep.retrain).toBe(true);
    expect(rep.reasons.join(' ')).toMatch(/PSI of a /);
    expect(rep.reasons.join(' ')).not.toMatch(/PSI of b /);
  });

  it('a degraded rolling Brier triggers retrain', () => {
    const { probs, outcomes } = calibrated(1000, 8);
    const rep = assessDrift(ref, { X: rows(1000, 9), probs, outcomes: outcomes.map((o) => 1 - o) });
    expect(rep.retrain).toBe(true);
    expect(rep.reasons.join(' ')).toMatch(/rolling Brier/);
  });

  it('too few outcomes: the Brier test waits', () => {
    const rep = assessDrift(ref, { X: [], probs: [0.9], outcomes: [0] });
    expect(rep).toMatchObject({ retrain: false, brier: null });
  });

  it('DriftMonitor keeps a bounded window', () => {
    const m = new DriftMonitor(ref, 300);
    for (const x of rows(1000, 10, 2)) m.observeRow(x);
    const { probs, outcomes } = calibrated(1000, 11);
    probs.forEach((p, i) => m.observeOutcome(p, outcomes[i] as 0 | 1));
    const rep = m.check();
    expect(rep.retrain).toBe(true);
    expect(rep.reasons.some((r) => r.includes('Brier'))).toBe(false);
  });
});
