import { describe, expect, it } from 'vitest';
import { hedgePerformance, type HedgePoint } from '../../../lib/hedge/performance.ts';

const H = 3_600_000;

/** Equity of a portfolio holding `ratio` in USD and the rest in an asset with these returns. */
function series(returns: number[], ratios: number[], e0 = 100_000): HedgePoint[] {
  const out: HedgePoint[] = [{ time: 0, equity: e0, hedgeRatio: ratios[0]!, assetReturn: 0 }];
  for (let k = 1; k <= returns.length; k++) {
    const prev = out[k - 1]!;
    out.push({ time: k * H, equity: prev.equity * (1 + (1 - prev.hedgeRatio) * returns[k - 1]!), hedgeRatio: ratios[k] ?? ratios[ratios.length - 1]!, assetReturn: returns[k - 1]! });
  }
  return out;
}

describe('hedgePerformance', () => {
  it.each([
    ['a falling market: the hedge saved', [-0.1, -0.1], [0.5], 100_000 * (0.95 * 0.95 - 0.9 * 0.9)],
    ['a rising market: the hedge cost', [0.1, 0.1], [0.5], 100_000 * (1.05 * 1.05 - 1.1 * 1.1)],
    ['no hedge: nothing saved or lost', [0.1, -0.2, 0.05], [0], 0],
    ['fully hedged through a crash', [-0.5], [1], 50_000],
  ])('%s', (_name, returns, ratios, saved) => {
    const p = hedgePerformance(series(returns, ratios));
    expect(p.savedUsd).toBeCloseTo(saved, 6);
    expect(p.savedPct).toBeCloseTo(saved / 100_000, 12);
    expect(p.unhedgedEquity).toBeCloseTo(p.hedgedEquity - saved, 6);
    expect(p.curve).toHaveLength(returns.length + 1);
  });

  it('reports both drawdowns', () => {
    const p = hedgePerformance(series([0.1, -0.2, -0.1, 0.3], [0.5]));
    expect(p.maxDrawdownUnhedged).toBeCloseTo(1 - 0.8 * 0.9, 12);
    expect(p.maxDrawdownHedged).toBeCloseTo(1 - 0.9 * 0.95, 12);
  });

  it('uses the ratio in force over each step (set at its start)', () => {
    // Hedge raised to 100 % right before the crash step, none before.
    const p = hedgePerformance(series([0.1, -0.5], [0, 1, 1]));
    expect(p.hedgedEquity).toBeCloseTo(110_000, 6);
    expect(p.unhedgedEquity).toBeCloseTo(55_000, 6);
  });

  it('adds back the fees of moving the hedge to the unhedged counterfactual', () => {
    const pts = series([0, 0], [0, 0.5, 0.5]);
    expect(hedgePerformance(pts, 0.003).savedUsd).toBeCloseTo(-100_000 * 0.003 * 0.5, 6);
  });

  it.each([
    ['no points', []],
    ['time going backwards', [{ time: 1, equity: 1, hedgeRatio: 0, assetReturn: 0 }, { time: 0, equity: 1, hedgeRatio: 0, assetReturn: 0 }]],
    ['zero starting equity', [{ time: 0, equity: 0, hedgeRatio: 0, assetReturn: 0 }]],
  ])('rejects %s', (_name, pts) => expect(() => hedgePerformance(pts)).toThrow(RangeError));
});
