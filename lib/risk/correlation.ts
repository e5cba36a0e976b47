/**
 * Rolling correlation of log returns and correlated groups. Series are aligned at their ends
 * (the last close of every pair is the same bar); the window is the last `window` returns.
 */
export interface CorrelationMatrix {
  pairs: string[];
  /** values[i][j] in [-1, 1]; NaN when there is too little history to say. */
  values: number[][];
}

/** Fewer returns than this and the correlation is unknown (NaN). */
export const MIN_RETURNS = 10;

function logReturns(closes: readonly number[], n: number): Float64Array {
  const out = new Float64Array(n);
  const start = closes.length - n - 1;
  for (let k = 0; k < n; k++) {
    const a = closes[start + k]!;
    const b = closes[start + k + 1]!;
    if (!(a > 0) || !(b > 0)) throw new RangeError(`closes must be positive, got ${a} → ${b}`);
    out[k] = Math.log(b / a);
  }
  return out;
}

function pearson(x: Float64Array, y: Float64Array, n: number): number {
  const ox = x.length - n;
  const oy = y.length - n;
  let mx = 0;
  let my = 0;
  for (let k = 0; k < n; k++) {
    mx += x[ox + k]!;
    my += y[oy + k]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    const dx = x[ox + k]! - mx;
    const dy = y[oy + k]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // A constant series (a stablecoin at its peg) moves with nothing.
  if (sxx === 0 || syy === 0) return 0;
  const r = sxy / Math.sqrt(sxx * syy);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

export function correlationMatrix(closesByPair: Readonly<Record<string, readonly number[]>>, window: number): CorrelationMatrix {
  checkWindow(window);
  const pairs = Object.keys(closesByPair).sort();
  const returns = pairs.map((p) => {
    const closes = closesByPair[p]!;
    return logReturns(closes, Math.max(0, Math.min(window, closes.length - 1)));
  });
  return matrixOf(pairs, returns);
}

/**
 * correlationMatrix from log returns already computed (`Math.log(close_t / close_{t-1})`, oldest
 * first, positive closes checked by the caller): each pair's last `window` returns, the same result.
 */
export function correlationMatrixOfReturns(returnsByPair: Readonly<Record<string, Float64Array>>, window: number): CorrelationMatrix {
  checkWindow(window);
  const pairs = Object.keys(returnsByPair).sort();
  const returns = pairs.map((p) => {
    const r = returnsByPair[p]!;
    return r.subarray(r.length - Math.max(0, Math.min(window, r.length)));
  });
  return matrixOf(pairs, returns);
}

function checkWindow(window: number): void {
  if (!Number.isInteger(window) || window < 2) throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
}

function matrixOf(pairs: string[], returns: Float64Array[]): CorrelationMatrix {
  const values = pairs.map(() => new Array<number>(pairs.length).fill(Number.NaN));
  for (let i = 0; i < pairs.length; i++) {
    values[i]![i] = 1;
    for (let j = i + 1; j < pairs.length; j++) {
      const n = Math.min(returns[i]!.length, returns[j]!.length);
      const r = n >= MIN_RETURNS ? pearson(returns[i]!, returns[j]!, n) : Number.NaN;
      values[i]![j] = r;
      values[j]![i] = r;
    }
  }
  return { pairs, values };
}

export interface CorrelationGroups {
  /** Each group's pairs, sorted; groups sorted by their first pair. */
  groups: string[][];
  /** Pair → index into `groups`. */
  groupOf: Record<string, number>;
}

/**
 * Union-find over pairs whose correlation is ≥ threshold (transitively: A~B and B~C put A, B, C in
 * one group). Only positive correlation links: long-only, a negatively correlated pair diversifies.
 * Unknown correlation (NaN, too little history) links by default — the cautious choice for a new
 * listing — unless `unknownLinks` is false.
 */
export function correlationGroups(m: CorrelationMatrix, threshold: number, unknownLinks = true): CorrelationGroups {
  const n = m.pairs.length;
  const parent = new Array<number>(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r = m.values[i]![j]!;
      if (r >= threshold || (Number.isNaN(r) && unknownLinks)) {
        const a = find(i);
        const b = find(j);
        if (a !== b) parent[a < b ? b : a] = a < b ? a : b;
      }
    }
  }
  const byRoot = new Map<number, string[]>();
  const sorted = m.pairs.map((p, i) => ({ p, i }));
  // correlationMatrix's pairs come sorted; a stable sort would leave them as they are.
  let ordered = true;
  for (let k = 1; ordered && k < n; k++) if (m.pairs[k - 1]! > m.pairs[k]!) ordered = false;
  if (!ordered) sorted.sort((a, b) => (a.p < b.p ? -1 : a.p > b.p ? 1 : 0));
  for (const { p, i } of sorted) {
    const r = find(i);
    const g = byRoot.get(r);
    if (g) g.push(p);
    else byRoot.set(r, [p]);
  }
  const groups = [...byRoot.values()].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const groupOf: Record<string, number> = {};
  groups.forEach((g, gi) => {
    for (const p of g) groupOf[p] = gi;
  });
  return { groups, groupOf };
}

/**
 * Closes on the open times every pair has (Kraken skips hours without trades), oldest first, so
 * that correlationMatrix compares the same bars.
 */
export function alignCloses(candlesByPair: Readonly<Record<string, readonly { openTime: number; close: number }[]>>): Record<string, number[]> {
  const pairs = Object.keys(candlesByPair);
  const out: Record<string, number[]> = {};
  if (pairs.length === 0) return out;
  const series = pairs.map((p) => candlesByPair[p]!);
  for (const s of series)
    for (let i = 1; i < s.length; i++) if (s[i]!.openTime <= s[i - 1]!.openTime) return alignUnsorted(candlesByPair);
  // Ascending series: walk all of them together, keeping the open times every one of them has.
  const idx = series.map(() => 0);
  for (const p of pairs) out[p] = [];
  for (;;) {
    let t = -Infinity;
    for (let k = 0; k < series.length; k++) {
      if (idx[k]! >= series[k]!.length) return out;
      const ot = series[k]![idx[k]!]!.openTime;
      if (ot > t) t = ot;
    }
    let all = true;
    for (let k = 0; k < series.length; k++) {
      const s = series[k]!;
      while (idx[k]! < s.length && s[idx[k]!]!.openTime < t) idx[k]!++;
      if (idx[k]! >= s.length) return out;
      if (s[idx[k]!]!.openTime !== t) all = false;
    }
    if (!all) continue;
    for (let k = 0; k < series.length; k++) out[pairs[k]!]!.push(series[k]![idx[k]!++]!.close);
  }
}

function alignUnsorted(candlesByPair: Readonly<Record<string, readonly { openTime: number; close: number }[]>>): Record<string, number[]> {
  const pairs = Object.keys(candlesByPair);
  const sorted = Object.fromEntries(pairs.map((p) => [p, [...candlesByPair[p]!].sort((a, b) => a.openTime - b.openTime)]));
  return alignCloses(sorted);
}
