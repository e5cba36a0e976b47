import { describe, expect, it } from 'vitest';
import { hedgedShares } from '../../../lib/hedge/performance.ts';
import { hedgePointsFromSnapshots, hedgeReportFromSnapshots } from '../../../lib/reports/hedge-report.ts';

const H = 3_600_000;

describe('hedge performance from equity snapshots and hedge sales', () => {
  it('a hedge sale of 500 through a 20 % fall saved half the loss (hand-computed)', () => {
    // 1000 in coins; the hedge sells 500 of them; coins fall 20 % → equity 900. Unhedged: 1000 → 800.
    const snaps = [
      { ts: 0, equity: 1000, cash: 500, positions: 500 },
      { ts: H, equity: 900, cash: 500, positions: 400 },
    ];
    const sales = [{ time: 0, usd: 500 }];
    expect(hedgePointsFromSnapshots(snaps, sales)[1]!.assetReturn).toBeCloseTo(-0.2, 12);
    const r = hedgeReportFromSnapshots(snaps, sales)!;
    expect(r.unhedgedEquity).toBeCloseTo(800, 9);
    expect(r.savedUsd).toBeCloseTo(100, 9);
    expect(r.savedPct).toBeCloseTo(0.1, 12);
    expect(r.points).toBe(2);
  });

  it('USD the strategy holds on its own (never invested, or from its exits) is no hedge: the same fall, no hedge sale, nothing saved', () => {
    const snaps = [
      { ts: 0, equity: 1000, cash: 500, positions: 500 },
      { ts: H, equity: 900, cash: 500, positions: 400 },
    ];
    const r = hedgeReportFromSnapshots(snaps, [])!;
    expect(r.unhedgedEquity).toBeCloseTo(900, 9);
    expect(r.savedUsd).toBeCloseTo(0, 9);
    // Only the 200 the hedge raised of the 500 held counts: unhedged 1000 → 1000 × (1 − 0.1 − 0.2 × 0.2).
    expect(hedgeReportFromSnapshots(snaps, [{ time: -H, usd: 200 }])!.unhedgedEquity).toBeCloseTo(1000 * (1 - 0.1 - 0.2 * 0.2), 9);
  });

  it('in a rally the hedge costs', () => {
    const snaps = [
      { ts: 0, equity: 1000, cash: 200, positions: 800 },
      { ts: 1, equity: 1080, cash: 200, positions: 880 }, // coins +10 %
    ];
    const r = hedgeReportFromSnapshots(snaps, [{ time: 0, usd: 200 }])!;
    expect(r.unhedgedEquity).toBeCloseTo(1100, 9);
    expect(r.savedUsd).toBeCloseTo(-20, 9);
  });

  it('a step with no holdings counts as no asset move; fewer than two points → null', () => {
    const flat = [
      { ts: 0, equity: 1000, cash: 1000, positions: 0 },
      { ts: 1, equity: 1000, cash: 1000, positions: 0 },
    ];
    expect(hedgePointsFromSnapshots(flat, [{ time: 0, usd: 1000 }])[1]!.assetReturn).toBe(0);
    expect(hedgeReportFromSnapshots(flat.slice(0, 1), [])).toBeNull();
  });
});

describe('hedgedShares', () => {
  it('accumulates the sales up to each snapshot, bounded by the cash still held, as a share of equity', () => {
    const snaps = [
      { ts: 0, equity: 1000, cash: 100, positions: 900 },
      { ts: H, equity: 1000, cash: 400, positions: 600 }, // the hedge sold 300 at H
      { ts: 2 * H, equity: 1000, cash: 600, positions: 400 }, // a strategy exit raised 200 more: not hedge
      { ts: 3 * H, equity: 1000, cash: 150, positions: 850 }, // the strategy bought with 450: 150 left
      { ts: 4 * H, equity: 1000, cash: 650, positions: 350 }, // an exit: cash again, but the hedge's USD was spent
    ];
    expect(hedgedShares(snaps, [{ time: H, usd: 300 }])).toEqual([0, 0.3, 0.3, 0.15, 0.15]);
  });

  it('counts sales from before the first snapshot (USD raised earlier and still held), in time order', () => {
    const snaps = [
      { ts: 10 * H, equity: 2000, cash: 1000, positions: 1000 },
      { ts: 11 * H, equity: 2000, cash: 1500, positions: 500 },
    ];
    expect(hedgedShares(snaps, [{ time: 11 * H, usd: 500 }, { time: 2 * H, usd: 400 }])).toEqual([0.2, 0.45]);
  });
});
