import { z } from 'zod';
import { rng, sigmoid } from '../math.ts';

/**
 * Gradient-boosted trees for log-loss with histogram splits (LightGBM-style): features are cut into
 * at most `maxBins` quantile bins once, so each node scans bins instead of sorted values. Row
 * subsampling per tree is seeded, so a seed fixes the model.
 */
export interface GbtParams {
  trees: number;
  learningRate: number;
  maxDepth: number;
  minLeaf: number; // rows
  l2: number; // on leaf values
  maxBins: number; // ≤ 256
  subsample: number; // row fraction per tree
  seed: number;
}

export const DEFAULT_GBT_PARAMS: GbtParams = { trees: 150, learningRate: 0.05, maxDepth: 4, minLeaf: 200, l2: 1, maxBins: 64, subsample: 0.7, seed: 1 };

type Hist = { g: Float64Array; h: Float64Array; n: Uint32Array };

/** Flat tree: internal nodes have feature ≥ 0 and go left when x[feature] <= threshold. */
const treeSchema = z.object({ feature: z.array(z.number().int()), threshold: z.array(z.number()), left: z.array(z.number().int()), right: z.array(z.number().int()), value: z.array(z.number()) });
type Tree = z.infer<typeof treeSchema>;

export const gbtJsonSchema = z.object({
  kind: z.literal('gbt'),
  params: z.object({ trees: z.number(), learningRate: z.number(), maxDepth: z.number(), minLeaf: z.number(), l2: z.number(), maxBins: z.number(), subsample: z.number(), seed: z.number() }),
  nFeatures: z.number().int(),
  base: z.number(),
  trees: z.array(treeSchema),
});
export type GbtJSON = z.infer<typeof gbtJsonSchema>;

export class GbtModel {
  readonly kind = 'gbt' as const;
  constructor(readonly params: GbtParams, readonly nFeatures: number, readonly base: number, readonly trees: Tree[]) {}

  /** Fits `params.trees` trees; with `init`, continues boosting from that model's scores instead (its trees are kept). */
  static fit(X: readonly ArrayLike<number>[], y: ArrayLike<number>, params: GbtParams = DEFAULT_GBT_PARAMS, init?: GbtModel): GbtModel {
    const n = X.length;
    if (n === 0 || n !== y.length) throw new Error(`gbt fit needs matching non-empty X and y (${n} vs ${y.length})`);
    const d = (X[0] as ArrayLike<number>).length;
    if (init && init.nFeatures !== d) throw new Error(`gbt continuation: model has ${init.nFeatures} features, rows have ${d}`);
    const { edges, bins } = binColumns(X, d, Math.min(params.maxBins, 256));
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i] as number;
    const prior = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
    const base = init ? init.base : Math.log(prior / (1 - prior));
    const F = init ? Float64Array.from(X, (x) => init.logit(x)) : new Float64Array(n).fill(base);
    const g = new Float64Array(n);
    const h = new Float64Array(n);
    const rand = rng(params.seed);
    const trees: Tree[] = init ? [...init.trees] : [];
    const B = Math.min(params.maxBins, 256);
    /** Gradient, hessian and count histograms of the rows `idx`, per (feature, bin). */
    const histogram = (idx: Uint32Array): Hist => {
      const hg = new Float64Array(d * B);
      const hh = new Float64Array(d * B);
      const hn = new Uint32Array(d * B);
      for (let f = 0; f < d; f++) {
        const col = bins[f] as Uint8Array;
        const off = f * B;
        for (let r = 0; r < idx.length; r++) {
          const i = idx[r] as number;
          const k = off + (col[i] as number);
          hg[k] = (hg[k] as number) + (g[i] as number);
          hh[k] = (hh[k] as number) + (h[i] as number);
          hn[k] = (hn[k] as number) + 1;
        }
      }
      return { g: hg, h: hh, n: hn };
    };
    for (let t = 0; t < params.trees; t++) {
      for (let i = 0; i < n; i++) {
        const p = sigmoid(F[i] as number);
        g[i] = p - (y[i] as number);
        h[i] = Math.max(p * (1 - p), 1e-12);
      }
      const picked: number[] = [];
      for (let i = 0; i < n; i++) if (params.subsample >= 1 || rand() < params.subsample) picked.push(i);
      const rows = Uint32Array.from(picked);
      const tree: Tree = { feature: [], threshold: [], left: [], right: [], value: [] };
      const leafOf = new Int32Array(n).fill(-1);
      // Histogram subtraction: only the smaller child is scanned, its sibling is parent − child.
      const build = (idx: Uint32Array, depth: number, hist: Hist | null): number => {
        const node = tree.feature.length;
        tree.feature.push(-1);
        tree.threshold.push(0);
        tree.left.push(-1);
        tree.right.push(-1);
        tree.value.push(0);
        let G = 0;
        let H = 0;
        for (let r = 0; r < idx.length; r++) {
          const i = idx[r] as number;
          G += g[i] as number;
          H += h[i] as number;
        }
        const leaf = (): number => {
          tree.value[node] = (-G / (H + params.l2)) * params.learningRate;
          for (let r = 0; r < idx.length; r++) leafOf[idx[r] as number] = node;
          return node;
        };
        if (depth >= params.maxDepth || idx.length < 2 * params.minLeaf) return leaf();
        const hs = hist ?? histogram(idx);
        const parentScore = (G * G) / (H + params.l2);
        let best = 1e-12;
        let bestF = -1;
        let bestB = -1;
        for (let f = 0; f < d; f++) {
          const nb = (edges[f] as Float64Array).length + 1;
          let gl = 0;
          let hl = 0;
          let nl = 0;
          for (let b = 0; b < nb - 1; b++) {
            const k = f * B + b;
            gl += hs.g[k] as number;
            hl += hs.h[k] as number;
            nl += hs.n[k] as number;
            const nr = idx.length - nl;
            if (nl < params.minLeaf) continue;
            if (nr < params.minLeaf) break;
            const gr = G - gl;
            const hr = H - hl;
            const gain = (gl * gl) / (hl + params.l2) + (gr * gr) / (hr + params.l2) - parentScore;
            if (gain > best) {
              best = gain;
              bestF = f;
              bestB = b;
            }
          }
        }
        if (bestF < 0) return leaf();
        const col = bins[bestF] as Uint8Array;
        let nLeft = 0;
        for (let r = 0; r < idx.length; r++) if ((col[idx[r] as number] as number) <= bestB) nLeft++;
        const li = new Uint32Array(nLeft);
        const ri = new Uint32Array(idx.length - nLeft);
        let a = 0;
        let c = 0;
        for (let r = 0; r < idx.length; r++) {
          const i = idx[r] as number;
          if ((col[i] as number) <= bestB) li[a++] = i;
          else ri[c++] = i;
        }
        let lh: Hist | null = null;
        let rh: Hist | null = null;
        if (depth + 1 < params.maxDepth) {
          const leftSmaller = li.length <= ri.length;
          const small = histogram(leftSmaller ? li : ri);
          const other: Hist = { g: hs.g.map((v, k) => v - (small.g[k] as number)), h: hs.h.map((v, k) => v - (small.h[k] as number)), n: hs.n.map((v, k) => v - (small.n[k] as number)) };
          lh = leftSmaller ? small : other;
          rh = leftSmaller ? other : small;
        }
        tree.feature[node] = bestF;
        tree.threshold[node] = (edges[bestF] as Float64Array)[bestB] as number;
        tree.left[node] = build(li, depth + 1, lh);
        tree.right[node] = build(ri, depth + 1, rh);
        return node;
      };
      build(rows, 0, null);
      trees.push(tree);
      // Rows left out of the subsample still move: route them through the new tree.
      for (let i = 0; i < n; i++) {
        const leaf = leafOf[i] as number;
        F[i] = (F[i] as number) + (leaf >= 0 ? (tree.value[leaf] as number) : evalTree(tree, X[i] as ArrayLike<number>));
      }
    }
    return new GbtModel(params, d, base, trees);
  }

  /**
   * Online update between retrains: `trees` more boosting rounds fitted on new rows only, on top of
   * this model (bins come from the new rows). Returns a new model; this one is unchanged.
   */
  extend(X: readonly ArrayLike<number>[], y: ArrayLike<number>, trees: number): GbtModel {
    const m = GbtModel.fit(X, y, { ...this.params, trees, seed: this.params.seed + this.trees.length }, this);
    return new GbtModel(this.params, m.nFeatures, m.base, m.trees);
  }

  logit(x: ArrayLike<number>): number {
    let s = this.base;
    for (const t of this.trees) s += evalTree(t, x);
    return s;
  }

  predictProba(x: ArrayLike<number>): number {
    return sigmoid(this.logit(x));
  }

  toJSON(): GbtJSON {
    return { kind: 'gbt', params: this.params, nFeatures: this.nFeatures, base: this.base, trees: this.trees };
  }

  static fromJSON(j: unknown): GbtModel {
    const v = gbtJsonSchema.parse(j);
    for (const t of v.trees) for (const f of t.feature) if (f >= v.nFeatures) throw new Error(`gbt JSON: split on feature ${f} of ${v.nFeatures}`);
    return new GbtModel(v.params, v.nFeatures, v.base, v.trees);
  }
}

function evalTree(t: Tree, x: ArrayLike<number>): number {
  let k = 0;
  for (;;) {
    const f = t.feature[k] as number;
    if (f < 0) return t.value[k] as number;
    k = (x[f] as number) <= (t.threshold[k] as number) ? (t.left[k] as number) : (t.right[k] as number);
  }
}

/** Quantile bin edges per feature (from a strided sample) and the bin of every value: bin b ⇔ x <= edges[b] (last bin above all edges). */
function binColumns(X: readonly ArrayLike<number>[], d: number, maxBins: number): { edges: Float64Array[]; bins: Uint8Array[] } {
  const n = X.length;
  const stride = Math.max(1, Math.floor(n / 20_000));
  const edges: Float64Array[] = [];
  const bins: Uint8Array[] = [];
  for (let f = 0; f < d; f++) {
    const sample: number[] = [];
    for (let i = 0; i < n; i += stride) sample.push((X[i] as ArrayLike<number>)[f] as number);
    sample.sort((a, b) => a - b);
    const e: number[] = [];
    for (let b = 1; b < maxBins; b++) {
      const v = sample[Math.min(sample.length - 1, Math.floor((b * sample.length) / maxBins))] as number;
      if (e.length === 0 || v > (e[e.length - 1] as number)) e.push(v);
    }
    if (e.length && e[e.length - 1] === sample[sample.length - 1]) e.pop(); // the top edge would leave an empty last bin
    const ef = Float64Array.from(e);
    const col = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const x = (X[i] as ArrayLike<number>)[f] as number;
      let lo = 0;
      let hi = ef.length; // first edge with x <= edge
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (x <= (ef[mid] as number)) hi = mid;
        else lo = mid + 1;
      }
      col[i] = lo;
    }
    edges.push(ef);
    bins.push(col);
  }
  return { edges, bins };
}
