/**
 * What the hedge saved or cost against the same portfolio unhedged (H-4, RP-4).
 *
 * points[k].assetReturn is the return, over (t[k-1], t[k]], of the risky holdings the hedge was
 * taken out of; the hedge ratio in force over that step is points[k-1].hedgeRatio — the share of
 * equity the hedge itself moved into USD (see hedgedShares), not all the USD the account holds: cash
 * the strategy never invested, or got back from its own exits, is no hedge. The unhedged
 * counterfactual earns, on top of the actual return, what the hedged share would have earned in
 * those holdings — plus, with `rebalanceCost`, the fees of moving the hedge (fraction of the USD
 * moved). USD is taken to earn nothing. Positive savedUsd = the hedge helped.
 */
export interface HedgePoint {
  time: number;
  equity: number;
  hedgeRatio: number;
  assetReturn: number;
}

export interface HedgePerformance {
  start: number;
  end: number;
  hedgedEquity: number;
  unhedgedEquity: number;
  savedUsd: number;
  /** savedUsd as a fraction of starting equity. */
  savedPct: number;
  hedgedReturn: number;
  unhedgedReturn: number;
  maxDrawdownHedged: number;
  maxDrawdownUnhedged: number;
  curve: { time: number; hedged: number; unhedged: number }[];
}

export function hedgePerformance(points: readonly HedgePoint[], rebalanceCost = 0): HedgePerformance {
  if (points.length === 0) throw new RangeError('hedgePerformance needs at least one point');
  const first = points[0]!;
  if (!(first.equity > 0)) throw new RangeError(`starting equity must be > 0, got ${first.equity}`);
  let unhedged = first.equity;
  let peakH = first.equity;
  let peakU = first.equity;
  let ddH = 0;
  let ddU = 0;
  const curve = [{ time: first.time, hedged: first.equity, unhedged }];
  for (let k = 1; k < points.length; k++) {
    const prev = points[k - 1]!;
    const p = points[k]!;
    if (p.time <= prev.time) throw new RangeError(`points must be strictly ascending in time (index ${k})`);
    if (!(prev.equity > 0)) throw new RangeError(`equity must stay > 0 (index ${k - 1})`);
    const hedgedR = p.equity / prev.equity - 1;
    // The rebalance into prev.hedgeRatio happened at prev.time (from the ratio before it).
    const moved = k >= 2 ? Math.abs(prev.hedgeRatio - points[k - 2]!.hedgeRatio) : 0;
    const unhedgedR = hedgedR + prev.hedgeRatio * p.assetReturn + rebalanceCost * moved;
    unhedged *= 1 + unhedgedR;
    peakH = Math.max(peakH, p.equity);
    peakU = Math.max(peakU, unhedged);
    ddH = Math.max(ddH, 1 - p.equity / peakH);
    ddU = Math.max(ddU, 1 - unhedged / peakU);
    curve.push({ time: p.time, hedged: p.equity, unhedged });
  }
  const last = points[points.length - 1]!;
  const savedUsd = last.equity - unhedged;
  return {
    start: first.time,
    end: last.time,
    hedgedEquity: last.equity,
    unhedgedEquity: unhedged,
    savedUsd,
    savedPct: savedUsd / first.equity,
    hedgedReturn: last.equity / first.equity - 1,
    unhedgedReturn: unhedged / first.equity - 1,
    maxDrawdownHedged: ddH,
    maxDrawdownUnhedged: ddU,
    curve,
  };
}

/** USD a hedge sale produced (its proceeds net of the fee), at its fill time. */
export interface HedgeSale {
  time: number;
  usd: number;
}

/**
 * The hedged share of equity at each snapshot: the USD that hedge sales produced (up to and at the
 * snapshot's time), still held as cash, over equity. The hedge only ever raises USD and entries may
 * not spend the hedged share while the target holds it; once the target falls, the strategy may buy
 * with it — then what cash is left bounds it (the strategy is taken to spend its own cash first).
 * Sales before the first snapshot count from it (USD raised before a report's range and still held).
 */
export function hedgedShares(snaps: readonly { ts: number; equity: number; cash: number }[], sales: readonly HedgeSale[]): number[] {
  const sorted = [...sales].sort((a, b) => a.time - b.time);
  let i = 0;
  let reserve = 0;
  return snaps.map((s) => {
    while (i < sorted.length && sorted[i]!.time <= s.ts) reserve += Math.max(0, sorted[i++]!.usd);
    reserve = Math.min(reserve, Math.max(0, s.cash));
    return s.equity > 0 ? Math.min(1, reserve / s.equity) : 0;
  });
}
