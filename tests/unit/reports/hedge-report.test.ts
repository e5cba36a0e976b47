import { describe, expect, it } from 'vitest';
import { hedgePointsFromSnapshots, hedgeReportFromSnapshots } from '../../../lib/reports/hedge-report.ts';

describe('hedge performance from equity snapshots', () => {
  it('a 50 % hedge through a 20 % fall saved half the loss (hand-computed)', () => {
    // 1000 equity, 500 in USD, 500 in coins; coins fall 20 % → equity 900. Unhedged: 1000 → 800.
    const snaps = [
      { ts: 0, equity: 1000, positions: 500, hedgeRatio: 0.5 },
      { ts: 3_600_000, equity: 900, positions: 400, hedgeRatio: 0.5 },
    ];
    expect(hedgePointsFromSnapshots(snaps)[1]!.assetReturn).toBeCloseTo(-0.2, 12);
    const r = hedgeReportFromSnapshots(snaps)!;
    expect(r.unhedgedEquity).toBeCloseTo(800, 9);
    expect(r.savedUsd).toBeCloseTo(100, 9);
    expect(r.savedPct).toBeCloseTo(0.1, 12);
    expect(r.points).toBe(2);
  });

  it('in a rally the hedge costs', () => {
    const snaps = [
      { ts: 0, equity: 1000, positions: 800, hedgeRatio: 0.2 },
      { ts: 1, equity: 1080, positions: 880, hedgeRatio: 0.2 }, // coins +10 %
    ];
    const r = hedgeReportFromSnapshots(snaps)!;
    expect(r.unhedgedEquity).toBeCloseTo(1100, 9);
    expect(r.savedUsd).toBeCloseTo(-20, 9);
  });

  it('a step with no holdings counts as no asset move; fewer than two points → null', () => {
    expect(hedgePointsFromSnapshots([{ ts: 0, equity: 1000, positions: 0, hedgeRatio: 1 }, { ts: 1, equity: 1000, positions: 0, hedgeRatio: 1 }])[1]!.assetReturn).toBe(0);
    expect(hedgeReportFromSnapshots([{ ts: 0, equity: 1000, positions: 0, hedgeRatio: 1 }])).toBeNull();
  });
});
