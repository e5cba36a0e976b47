/** Classification metrics and the net-of-fees long/flat backtest (pure). */

/** ROC AUC with ties counted half (Mann–Whitney U); NaN when one class is absent. */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = p.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => (p[a] as number) - (p[b] as number));
  let rankSumPos = 0;
  let nPos = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && p[idx[j + 1] as number] === p[idx[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k] as number] === 1) {
      rankSumPos += avgRank;
      nPos++;
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

const EPS = 1e-15;

export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i] as number));
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / p.length;
}

export function brier(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += ((p[i] as number) - (y[i] as number)) ** 2;
  return s / p.length;
}

export interface BacktestResult {
  totalReturn: number; // net, compounded
  trades: number; // position changes
  exposure: number; // fraction of bars long
  buyHoldReturn: number; // enter at the first bar, exit after the last, paying fees both ways
  bars: number;
}

/**
 * Long/flat on a sequence of bars: position[i] ∈ {0,1} is held over nextReturn[i] (the bar after the
 * decision). Each change of position pays `feeRate` on the notional; an open position is closed (and
 * pays) at the end so the figure is comparable with buy-and-hold.
 */
export function backtestPositions(position: ArrayLike<number>, nextReturn: ArrayLike<number>, feeRate: number): BacktestResult {
  let eq = 1;
  let bh = 1;
  let prev = 0;
  let trades = 0;
  let long = 0;
  const n = position.length;
  for (let i = 0; i < n; i++) {
    const pos = position[i] as number;
    if (pos !== prev) {
      eq *= 1 - feeRate * Math.abs(pos - prev);
      trades++;
    }
    eq *= 1 + pos * (nextReturn[i] as number);
    bh *= 1 + (nextReturn[i] as number);
    long += pos;
    prev = pos;
  }
  if (prev !== 0) {
    eq *= 1 - feeRate * prev;
    trades++;
  }
  const buyHold = n ? bh * (1 - feeRate) * (1 - feeRate) - 1 : 0;
  return { totalReturn: eq - 1, trades, exposure: n ? long / n : 0, buyHoldReturn: buyHold, bars: n };
}

/**
 * Long/flat positions from probabilities: enter when p > entry, stay long while p > exit. With
 * exit = entry (the default) this is simply "long while p > entry".
 */
export function positionsFromProbs(p: ArrayLike<number>, entry: number, exit = entry): number[] {
  if (exit > entry) throw new Error(`exit threshold ${exit} above entry ${entry}`);
  const out: number[] = [];
  let pos = 0;
  for (let i = 0; i < p.length; i++) {
    const q = p[i] as number;
    pos = pos ? (q > exit ? 1 : 0) : q > entry ? 1 : 0;
    out.push(pos);
  }
  return out;
}

/** Go long while p > threshold (or, with an exit threshold, until p <= exit), flat otherwise. */
export function backtestSignal(p: ArrayLike<number>, nextReturn: ArrayLike<number>, threshold: number, feeRate: number, exitThreshold = threshold): BacktestResult {
  return backtestPositions(positionsFromProbs(p, threshold, exitThreshold), nextReturn, feeRate);
}
