import { describe, expect, it } from 'vitest';
import { auc, backtestPositions, backtestSignal, brier, logLoss, positionsFromProbs } from '../../../lib/ml/metrics.ts';

describe('auc', () => {
  it.each([
    { p: [0.1, 0.4, 0.35, 0.8], y: [0, 0, 1, 1], want: 0.75 }, // the classic sklearn example
    { p: [0.1, 0.2, 0.3, 0.4], y: [0, 0, 1, 1], want: 1 },
    { p: [0.4, 0.3, 0.2, 0.1], y: [0, 0, 1, 1], want: 0 },
    { p: [0.5, 0.5, 0.5, 0.5], y: [0, 1, 0, 1], want: 0.5 }, // ties count half
    { p: [0.2, 0.5, 0.5, 0.9], y: [0, 0, 1, 1], want: 0.875 }, // 3 wins + one tie of 4 pairs
  ])('$p / $y → $want', ({ p, y, want }) => expect(auc(p, y)).toBeCloseTo(want, 12));
  it('is NaN with one class', () => expect(auc([0.1, 0.9], [1, 1])).toBeNaN());
});

describe('logLoss and brier', () => {
  it.each([
    { p: [0.5, 0.5], y: [1, 0], ll: Math.log(2), br: 0.25 },
    { p: [0.8, 0.3], y: [1, 0], ll: -(Math.log(0.8) + Math.log(0.7)) / 2, br: (0.04 + 0.09) / 2 },
    { p: [0.9, 0.9, 0.2], y: [1, 0, 0], ll: -(Math.log(0.9) + Math.log(0.1) + Math.log(0.8)) / 3, br: (0.01 + 0.81 + 0.04) / 3 },
  ])('$p / $y', ({ p, y, ll, br }) => {
    expect(logLoss(p, y)).toBeCloseTo(ll, 12);
    expect(brier(p, y)).toBeCloseTo(br, 12);
  });
  it('clips certain wrong predictions instead of returning Infinity', () => {
    expect(Number.isFinite(logLoss([0], [1]))).toBe(true);
    expect(logLoss([0], [1])).toBeGreaterThan(30);
  });
});

describe('backtestPositions', () => {
  const fee = 0.0026;
  it('pays a fee on each change and closes an open position at the end', () => {
    const r = backtestPositions([1, 1, 0, 1], [0.1, -0.05, 0.2, 0.1], fee);
    const want = (1 - fee) * 1.1 * 0.95 * (1 - fee) * (1 - fee) * 1.1 * (1 - fee) - 1;
    expect(r.totalReturn).toBeCloseTo(want, 12);
    expect(r.trades).toBe(4);
    expect(r.exposure).toBe(0.75);
    expect(r.buyHoldReturn).toBeCloseTo(1.1 * 0.95 * 1.2 * 1.1 * (1 - fee) ** 2 - 1, 12);
  });
  it('flat all the time earns nothing and pays nothing', () => {
    expect(backtestPositions([0, 0, 0], [0.1, 0.2, -0.3], fee)).toMatchObject({ totalReturn: 0, trades: 0, exposure: 0 });
  });
  it('always long equals buy-and-hold', () => {
    const r = backtestSignal([0.9, 0.9, 0.9], [0.01, -0.02, 0.03], 0.5, fee);
    expect(r.totalReturn).toBeCloseTo(r.buyHoldReturn, 12);
  });
});

describe('positionsFromProbs', () => {
  it.each([
    { p: [0.6, 0.52, 0.4, 0.56, 0.5], entry: 0.55, exit: 0.55, want: [1, 0, 0, 1, 0] },
    { p: [0.6, 0.52, 0.4, 0.56, 0.5], entry: 0.55, exit: 0.5, want: [1, 1, 0, 1, 0] }, // hysteresis holds through 0.52
    { p: [0.54, 0.52], entry: 0.55, exit: 0.5, want: [0, 0] }, // exit band never opens a position
  ])('$p entry $entry exit $exit', ({ p, entry, exit, want }) => expect(positionsFromProbs(p, entry, exit)).toEqual(want));
  it('rejects an exit above the entry', () => expect(() => positionsFromProbs([0.5], 0.5, 0.6)).toThrow(/exit threshold/));
});
