import { describe, expect, it } from 'vitest';
import { annualisedVolatility, cagr, currentDrawdown, maxDrawdown, periodsPerYear, riskReport, sharpe, simpleReturns, sortino } from '../../../lib/reports/metrics.ts';

describe('drawdown (hand-computed)', () => {
  it.each([
    // peak 110 → trough 99 is 10 %; the later 121 → 110 is 9.09 %
    [[100, 110, 99, 121, 110], 0.1, 11 / 121],
    [[100, 90, 80, 70], 0.3, 0.3],
    [[100, 101, 102], 0, 0],
    [[100], 0, 0],
    [[], 0, 0],
    [[50, 100, 25, 100], 0.75, 0],
  ])('%j → max %d, current %d', (eq, max, cur) => {
    expect(maxDrawdown(eq)).toBeCloseTo(max, 12);
    expect(currentDrawdown(eq)).toBeCloseTo(cur, 12);
  });
});

describe('returns, volatility, Sharpe, Sortino (hand-computed)', () => {
  it('simple returns', () => {
    const r = simpleReturns([100, 110, 99]);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
  });

  it('annualised volatility is the sample standard deviation × √periods', () => {
    // returns ±0.1: mean 0, sample variance (0.01 + 0.01) / 1 = 0.02
    expect(annualisedVolatility([0.1, -0.1], 365)).toBeCloseTo(Math.sqrt(0.02) * Math.sqrt(365), 10);
    expect(annualisedVolatility([0.1, -0.1], 365)).toBeCloseTo(2.701851, 5);
    expect(annualisedVolatility([0.05], 365)).toBe(0);
  });

  const r = [0.02, -0.01, 0.03, 0];
  it('Sharpe: mean / sample std × √periods', () => {
    // mean 0.01; squared deviations 1e-4 + 4e-4 + 4e-4 + 1e-4 = 1e-3, / 3 → std 0.0182574
    expect(sharpe(r, 365)).toBeCloseTo((0.01 / Math.sqrt(1e-3 / 3)) * Math.sqrt(365), 10);
    expect(sharpe(r, 365)).toBeCloseTo(10.46422, 4);
    expect(sharpe([0.01, 0.01], 365)).toBe(0); // no variation: undefined, reported 0
  });

  it('Sortino: mean / downside deviation (over all periods) × √periods', () => {
    // downside: sqrt(0.01² / 4) = 0.005 → 0.01 / 0.005 = 2
    expect(sortino(r, 365)).toBeCloseTo(2 * Math.sqrt(365), 10);
    expect(sortino([0.01, 0.02], 365)).toBe(0); // no losing period
  });

  it('CAGR', () => {
    expect(cagr(100, 121, 2)).toBeCloseTo(0.1, 12);
    expect(cagr(0, 121, 2)).toBe(0);
  });

  it.each([
    [3_600_000, 8760],
    [86_400_000, 365],
  ])('periodsPerYear of a %d ms spacing is %d', (gap, n) => {
    expect(periodsPerYear([0, 1, 2, 3].map((i) => ({ ts: i * gap })))).toBeCloseTo(n, 9);
  });
});

describe('riskReport', () => {
  it('combines drawdown, volatility and exposure', () => {
    const day = 86_400_000;
    const pts = [
      { ts: 0, equity: 100, positionsUsd: 50 },
      { ts: day, equity: 110, positionsUsd: 55 },
      { ts: 2 * day, equity: 99, positionsUsd: 0 },
    ];
    const rep = riskReport(pts);
    expect(rep.points).toBe(3);
    expect(rep.equityUsd).toBe(99);
    expect(rep.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(rep.currentDrawdown).toBeCloseTo(0.1, 12);
    expect(rep.volatilityAnnual).toBeCloseTo(Math.sqrt(0.02) * Math.sqrt(365), 9);
    expect(rep.exposure).toBe(0);
    expect(rep.averageExposure).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12);
  });

  it('is empty-safe', () => {
    expect(riskReport([])).toEqual({ points: 0, equityUsd: null, maxDrawdown: 0, currentDrawdown: 0, volatilityAnnual: 0, exposure: null, averageExposure: null });
  });
});
