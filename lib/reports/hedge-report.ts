import { hedgePerformance, hedgedShares, type HedgePerformance, type HedgePoint, type HedgeSale } from '../hedge/performance.ts';

export type HedgeSnapshot = { ts: number; equity: number; cash: number; positions: number };

/**
 * Hedge points from equity snapshots (ascending) and the account's hedge sales. USD earns nothing,
 * so between two snapshots the whole equity change came from the risky holdings: their return is
 * Δequity / positionsUsd at the step's start (trades only move value between cash and positions;
 * their fees are a small cost that this charges to the holdings). A step that starts with no
 * holdings carries no information about the holdings' return and counts as 0. The hedged share is
 * the USD the hedge's own sales raised and the account still holds (hedgedShares), not the account's
 * whole USD share.
 */
export function hedgePointsFromSnapshots(snaps: readonly HedgeSnapshot[], sales: readonly HedgeSale[]): HedgePoint[] {
  const shares = hedgedShares(snaps, sales);
  return snaps.map((s, k) => {
    const prev = k > 0 ? snaps[k - 1]! : null;
    const assetReturn = prev && prev.positions > 0 ? (s.equity - prev.equity) / prev.positions : 0;
    return { time: s.ts, equity: s.equity, hedgeRatio: shares[k]!, assetReturn };
  });
}

/** What the hedge saved (positive) or cost over the snapshots; null with fewer than two usable points. */
export function hedgeReportFromSnapshots(snaps: readonly HedgeSnapshot[], sales: readonly HedgeSale[]): (Omit<HedgePerformance, 'curve'> & { points: number }) | null {
  const usable = snaps.filter((s) => s.equity > 0);
  if (usable.length < 2) return null;
  const { curve, ...perf } = hedgePerformance(hedgePointsFromSnapshots(usable, sales));
  return { ...perf, points: curve.length };
}
