/** The auto policy's inputs, from data the cycle already has. */

/**
 * Annualised realised volatility of a weighted basket: the std of the weighted sum of per-bar log
 * returns over the last `window` bars (series aligned at their ends, e.g. by alignCloses), scaled
 * by √(bars per year). Weights need not sum to 1 (they are normalised); NaN when there is not
 * enough history or no weight.
 */
export function basketVolAnnual(closesByPair: Readonly<Record<string, readonly number[]>>, weights: Readonly<Record<string, number>>, window: number, intervalSeconds: number): number {
  const returns: Record<string, Float64Array> = {};
  for (const p of Object.keys(weights)) {
    const c = closesByPair[p];
    if (c === undefined) continue;
    const lr = new Float64Array(Math.max(0, Math.min(window, c.length - 1)));
    const off = c.length - lr.length - 1;
    for (let k = 0; k < lr.length; k++) lr[k] = Math.log(c[off + k + 1]! / c[off + k]!);
    returns[p] = lr;
  }
  return basketVolOfReturns(returns, weights, window, intervalSeconds);
}

/**
 * The same from each pair's log returns already computed (`Math.log(close_t / close_{t-1})`, oldest
 * first, aligned at their ends) — the market view passes cached returns.
 */
export function basketVolOfReturns(returnsByPair: Readonly<Record<string, ArrayLike<number>>>, weights: Readonly<Record<string, number>>, window: number, intervalSeconds: number): number {
  const pairs = Object.keys(weights).filter((p) => weights[p]! > 0 && returnsByPair[p] !== undefined);
  let total = 0;
  for (const p of pairs) total += weights[p]!;
  if (pairs.length === 0 || !(total > 0) || window < 2) return Number.NaN;
  let n = window;
  for (const p of pairs) n = Math.min(n, returnsByPair[p]!.length);
  if (n < 2) return Number.NaN;
  const r = new Float64Array(n);
  for (const p of pairs) {
    const lr = returnsByPair[p]!;
    const w = weights[p]! / total;
    const off = lr.length - n;
    for (let k = 0; k < n; k++) r[k]! += w * lr[off + k]!;
  }
  let mean = 0;
  for (let k = 0; k < n; k++) mean += r[k]!;
  mean /= n;
  let ss = 0;
  for (let k = 0; k < n; k++) ss += (r[k]! - mean) ** 2;
  return Math.sqrt(ss / (n - 1)) * Math.sqrt((365 * 86_400) / intervalSeconds);
}

/** Drawdown from the equity peak, fraction in [0, 1]. */
export function drawdownFromPeak(peakEquity: number, equity: number): number {
  if (!(peakEquity > 0)) return 0;
  return Math.min(1, Math.max(0, 1 - equity / peakEquity));
}
