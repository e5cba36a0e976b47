import { z } from 'zod';
import { brier } from './metrics.ts';

/** What the model looked like at training time, kept with the model to judge drift later. */
export const driftReferenceSchema = z.object({
  featureNames: z.array(z.string()),
  edges: z.array(z.array(z.number())), // per feature, decile edges of the training values
  proportions: z.array(z.array(z.number())), // per feature, training share in each bin
  brier: z.number(), // out-of-sample Brier at training time
});
export type DriftReference = z.infer<typeof driftReferenceSchema>;

const BINS = 10;
const PSI_EPS = 1e-4;

function binOf(edges: readonly number[], x: number): number {
  let k = 0;
  while (k < edges.length && x > (edges[k] as number)) k++;
  return k;
}

export function driftReference(featureNames: readonly string[], X: readonly ArrayLike<number>[], referenceBrier: number): DriftReference {
  const edges: number[][] = [];
  const proportions: number[][] = [];
  featureNames.forEach((_, f) => {
    const v = X.map((x) => x[f] as number).sort((a, b) => a - b);
    const e: number[] = [];
    for (let b = 1; b < BINS; b++) {
      const q = v[Math.floor((b * v.length) / BINS)] as number;
      if (e.length === 0 || q > (e[e.length - 1] as number)) e.push(q);
    }
    edges.push(e);
    proportions.push(histogram(e, X.map((x) => x[f] as number)));
  });
  return { featureNames: [...featureNames], edges, proportions, brier: referenceBrier };
}

function histogram(edges: readonly number[], values: readonly number[]): number[] {
  const h = new Array<number>(edges.length + 1).fill(0);
  for (const x of values) h[binOf(edges, x)]! += 1;
  return h.map((c) => c / Math.max(1, values.length));
}

/** Population stability index of `values` against the training bins. */
export function psi(edges: readonly number[], expected: readonly number[], values: readonly number[]): number {
  const actual = histogram(edges, values);
  let s = 0;
  for (let b = 0; b < expected.length; b++) {
    const e = Math.max(expected[b] as number, PSI_EPS);
    const a = Math.max(actual[b] as number, PSI_EPS);
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

export interface DriftThresholds {
  /** Retrain when the rolling Brier exceeds the training Brier by this much (absolute). */
  brierIncrease: number;
  /** Retrain when any feature's PSI exceeds this (0.25 is the usual "significant shift"). */
  psi: number;
  /** Below this many resolved predictions the Brier test is not applied. */
  minOutcomes: number;
  minRows: number;
}

export const DEFAULT_DRIFT_THRESHOLDS: DriftThresholds = { brierIncrease: 0.02, psi: 0.25, minOutcomes: 200, minRows: 200 };

export interface DriftReport {
  retrain: boolean;
  reasons: string[];
  brier: number | null;
  referenceBrier: number;
  psi: Record<string, number>;
}

/** Compares recent rows and resolved predictions with the training reference. */
export function assessDrift(
  ref: DriftReference,
  recent: { X: readonly ArrayLike<number>[]; probs: readonly number[]; outcomes: readonly number[] },
  th: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS,
): DriftReport {
  if (recent.probs.length !== recent.outcomes.length) throw new Error('assessDrift: probs and outcomes differ in length');
  const reasons: string[] = [];
  let b: number | null = null;
  if (recent.outcomes.length >= th.minOutcomes) {
    b = brier(recent.probs, recent.outcomes);
    if (b > ref.brier + th.brierIncrease) reasons.push(`rolling Brier ${b.toFixed(4)} > training ${ref.brier.toFixed(4)} + ${th.brierIncrease}`);
  }
  const out: Record<string, number> = {};
  if (recent.X.length >= th.minRows) {
    ref.featureNames.forEach((name, f) => {
      const v = psi(ref.edges[f] as number[], ref.proportions[f] as number[], recent.X.map((x) => x[f] as number));
      out[name] = v;
      if (v > th.psi) reasons.push(`PSI of ${name} ${v.toFixed(3)} > ${th.psi}`);
    });
  }
  return { retrain: reasons.length > 0, reasons, brier: b, referenceBrier: ref.brier, psi: out };
}

/** Bounded window of recent feature rows and resolved (probability, outcome) pairs for assessDrift. */
export class DriftMonitor {
  private readonly X: ArrayLike<number>[] = [];
  private readonly probs: number[] = [];
  private readonly outcomes: number[] = [];
  constructor(readonly ref: DriftReference, readonly window = 720, readonly thresholds: DriftThresholds = DEFAULT_DRIFT_THRESHOLDS) {}
  observeRow(x: ArrayLike<number>): void {
    this.X.push(x);
    if (this.X.length > this.window) this.X.shift();
  }
  observeOutcome(prob: number, outcome: 0 | 1): void {
    this.probs.push(prob);
    this.outcomes.push(outcome);
    if (this.probs.length > this.window) {
      this.probs.shift();
      this.outcomes.shift();
    }
  }
  check(): DriftReport {
    return assessDrift(this.ref, { X: this.X, probs: this.probs, outcomes: this.outcomes }, this.thresholds);
  }
}
