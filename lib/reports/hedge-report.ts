import { hedgePerformance, type HedgePerformance, type HedgePoint } from '../hedge/performance.ts';

/**
 * Hedge points from equity snapshots (ascending). USD earns nothing, so between two snapshots the
 * whole equity change came from the risky holdings: their return is Δequity / positionsUsd at the
 * step's start (trades only move value between cash and positions; their fees are a small cost that
 * this charges to the holdings). A step that starts with no holdings carries no information about
 * the holdings' return and counts as 0.
 */
export function hedgePointsFromSnapshots(snaps: readonly { ts: number; equity: number; positions: number; hedgeRatio: number }[]): HedgePoint[] {
  return snaps.map((s, k) => {
    const prev = k > 0 ? snaps[k - 1]! : null;
    const assetReturn = prev && prev.positions > 0 ? (s.equity - prev.equity) / prev.positions : 0;
    return { time: s.ts, equity: s.equity, hedgeRatio: s.hedgeRatio, assetReturn };
  });
}

/** What the hedge saved (positive) or cost over the snapshots; null with fewer than two usable points. */
export function hedgeReportFromSnapshots(snaps: readonly { ts: number; equity: number; positions: number; hedgeRatio: number }[]): Omit<HedgePerformance, 'curve'> & { points: number } | null {
  const usable = snaps.filter((s) => s.equity > 0);
  if (usable.length < 2) return null;
  const { curve, ...perf } = hedgePerformance(hedgePointsFromSnapshots(usable));
  return { ...perf, points: curve.length };
}
