import { describe, expect, it } from 'vitest';
import { buyCost, ceilToDecimals, edgeClearsCosts, floorToDecimals, maxBuyAmount, requiredEdge, roundToDecimals, sellProceeds } from '../../../lib/risk/index.ts';

describe('decimal rounding', () => {
  it.each([
    [0.29, 2, 0.29], // 0.29 * 100 = 28.999…96 in binary
    [1.005, 2, 1],
    [0.123456789, 8, 0.12345678],
    [12.9999, 0, 12],
    [50_000 * 1.001, 1, 50_050], // 50049.99999999999: binary error, not a lower price
    [99999.99999999981, 2, 99999.99], // 8 ulps under: a real shortfall
    [0, 4, 0],
  ])('floorToDecimals(%d, %d) = %d', (x, d, want) => {
    expect(floorToDecimals(x, d)).toBe(want);
    expect(floorToDecimals(x, d)).toBeLessThanOrEqual(x * (1 + 4 * Number.EPSILON));
  });

  it.each([
    [0.281, 2, 0.29],
    [0.28, 2, 0.28],
    [50_000.01, 1, 50_000.1],
  ])('ceilToDecimals(%d, %d) = %d', (x, d, want) => expect(ceilToDecimals(x, d)).toBe(want));

  it.each([
    [2_425.456, 2, 2_425.46],
    [2_425.454, 2, 2_425.45],
  ])('roundToDecimals(%d, %d) = %d', (x, d, want) => expect(roundToDecimals(x, d)).toBe(want));

  it.each([[-1], [19], [1.5]])('rejects precision %d', (d) => expect(() => floorToDecimals(1, d)).toThrow(RangeError));
});

describe('costs', () => {
  it('buy cost and proceeds carry fee and slippage', () => {
    expect(buyCost(2, 100, 0.0026, 0.0005)).toBeCloseTo(200.62, 10);
    expect(sellProceeds(2, 100, 0.0026, 0.0005)).toBeCloseTo(199.38, 10);
    expect(buyCost(maxBuyAmount(1_000, 100, 0.0026, 0.0005), 100, 0.0026, 0.0005)).toBeCloseTo(1_000, 9);
  });

  it.each([
    [0.0072, true],
    [0.00719, false],
    [-0.01, false],
  ])('edge %d clears 2×0.26 %% + 2×0.05 %% + 0.1 %%: %s', (edge, ok) => {
    expect(requiredEdge(0.0026, 0.0005, 0.001)).toBeCloseTo(0.0072, 12);
    expect(edgeClearsCosts(edge, 0.0026, 0.0005, 0.001)).toBe(ok);
  });
});
