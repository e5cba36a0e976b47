import { z } from 'zod';
import { sigmoid } from '../math.ts';
import { Standardizer } from './standardize.ts';

/**
 * L2-regularised logistic regression on standardised features, fitted by Newton's method (IRLS):
 * with ~20 features the Hessian is tiny, so a handful of exact steps beats SGD and is deterministic.
 * Objective: mean log-loss + (l2 / 2)·‖w‖² (bias not penalised).
 */
export interface LogisticParams {
  l2: number;
  maxIter: number;
  tol: number;
}

export const DEFAULT_LOGISTIC_PARAMS: LogisticParams = { l2: 1e-2, maxIter: 50, tol: 1e-9 };

export const logisticJsonSchema = z.object({
  kind: z.literal('logistic'),
  params: z.object({ l2: z.number(), maxIter: z.number(), tol: z.number() }),
  standardizer: z.object({ mean: z.array(z.number()), scale: z.array(z.number()) }),
  weights: z.array(z.number()),
  bias: z.number(),
});
export type LogisticJSON = z.infer<typeof logisticJsonSchema>;

export class LogisticModel {
  readonly kind = 'logistic' as const;
  private readonly buf: Float64Array;
  constructor(readonly params: LogisticParams, readonly standardizer: Standardizer, readonly weights: Float64Array, public bias: number) {
    this.buf = new Float64Array(weights.length);
  }

  static fit(X: readonly ArrayLike<number>[], y: ArrayLike<number>, params: LogisticParams = DEFAULT_LOGISTIC_PARAMS): LogisticModel {
    if (X.length === 0 || X.length !== y.length) throw new Error(`logistic fit needs matching non-empty X and y (${X.length} vs ${y.length})`);
    const st = Standardizer.fit(X);
    const d = st.mean.length;
    const n = X.length;
    const Z = X.map((x) => st.transform(x));
    const m = d + 1; // last coefficient is the bias
    const beta = new Float64Array(m);
    const g = new Float64Array(m);
    const H = new Float64Array(m * m);
    for (let it = 0; it < params.maxIter; it++) {
      g.fill(0);
      H.fill(0);
      for (let i = 0; i < n; i++) {
        const zi = Z[i] as Float64Array;
        let s = beta[d] as number;
        for (let j = 0; j < d; j++) s += (beta[j] as number) * (zi[j] as number);
        const p = sigmoid(s);
        const r = (p - (y[i] as number)) / n;
        const w = (p * (1 - p)) / n;
        for (let a = 0; a < m; a++) {
          const za = a < d ? (zi[a] as number) : 1;
          g[a] = (g[a] as number) + r * za;
          const wa = w * za;
          for (let b = 0; b <= a; b++) H[a * m + b] = (H[a * m + b] as number) + wa * (b < d ? (zi[b] as number) : 1);
        }
      }
      for (let a = 0; a < d; a++) {
        g[a] = (g[a] as number) + params.l2 * (beta[a] as number);
        H[a * m + a] = (H[a * m + a] as number) + params.l2;
      }
      H[d * m + d] = (H[d * m + d] as number) + 1e-10;
      const step = choleskySolve(H, g, m);
      let maxStep = 0;
      for (let a = 0; a < m; a++) {
        beta[a] = (beta[a] as number) - (step[a] as number);
        maxStep = Math.max(maxStep, Math.abs(step[a] as number));
      }
      if (maxStep < params.tol) break;
    }
    return new LogisticModel(params, st, beta.slice(0, d), beta[d] as number);
  }

  /** Log-odds of raw (unstandardised) features. */
  logit(x: ArrayLike<number>): number {
    const z = this.standardizer.transform(x, this.buf);
    let s = this.bias;
    for (let j = 0; j < z.length; j++) s += (this.weights[j] as number) * (z[j] as number);
    return s;
  }

  predictProba(x: ArrayLike<number>): number {
    return sigmoid(this.logit(x));
  }

  /**
   * Online update between retrains: `epochs` passes of plain SGD over the new rows, keeping the
   * standardiser of the last full fit. Returns a new model; this one is unchanged.
   */
  sgdUpdate(X: readonly ArrayLike<number>[], y: ArrayLike<number>, opts: { learningRate: number; epochs: number }): LogisticModel {
    const next = new LogisticModel(this.params, this.standardizer, this.weights.slice(), this.bias);
    for (let e = 0; e < opts.epochs; e++) {
      for (let i = 0; i < X.length; i++) {
        const z = next.standardizer.transform(X[i] as ArrayLike<number>);
        const r = next.predictProba(X[i] as ArrayLike<number>) - (y[i] as number);
        for (let j = 0; j < z.length; j++) next.weights[j] = (next.weights[j] as number) - opts.learningRate * (r * (z[j] as number) + this.params.l2 * (next.weights[j] as number));
        next.bias -= opts.learningRate * r;
      }
    }
    return next;
  }

  toJSON(): LogisticJSON {
    return { kind: 'logistic', params: this.params, standardizer: this.standardizer.toJSON(), weights: Array.from(this.weights), bias: this.bias };
  }

  static fromJSON(j: unknown): LogisticModel {
    const v = logisticJsonSchema.parse(j);
    if (v.weights.length !== v.standardizer.mean.length) throw new Error('logistic JSON: weights and standardizer disagree on the feature count');
    return new LogisticModel(v.params, Standardizer.fromJSON(v.standardizer), Float64Array.from(v.weights), v.bias);
  }
}

/** Solves A x = b for symmetric positive-definite A given by its lower triangle (row-major m×m). */
function choleskySolve(A: Float64Array, b: Float64Array, m: number): Float64Array {
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * m + j] as number;
      for (let k = 0; k < j; k++) s -= (L[i * m + k] as number) * (L[j * m + k] as number);
      if (i === j) {
        if (s <= 0) throw new Error('logistic fit: Hessian not positive definite');
        L[i * m + i] = Math.sqrt(s);
      } else L[i * m + j] = s / (L[j * m + j] as number);
    }
  }
  const yv = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (L[i * m + k] as number) * (yv[k] as number);
    yv[i] = s / (L[i * m + i] as number);
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = yv[i] as number;
    for (let k = i + 1; k < m; k++) s -= (L[k * m + i] as number) * (x[k] as number);
    x[i] = s / (L[i * m + i] as number);
  }
  return x;
}
