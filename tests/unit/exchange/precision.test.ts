import { describe, expect, it } from 'vitest';
import { meetsMinimums, minimumViolation, roundAmount, roundDown, roundNearest, roundPrice, roundUp } from '../../../lib/exchange/precision.ts';

describe('roundDown', () => {
  it.each([
    [0.29, 2, 0.29], // 0.29 * 100 = 28.999999999999996 in doubles
    [0.1 + 0.2, 2, 0.3],
    [0.3 - 0.1, 1, 0.2], // 0.19999999999999998
    [1.23456789999, 8, 1.23456789],
    [0.123456789, 8, 0.12345678],
    [123456.78, 1, 123456.7],
    [1.15, 1, 1.1],
    [4.35, 2, 4.35], // 434.99999999999994
    [-0.001, 2, -0.01],
    [7, 0, 7],
    [0, 8, 0],
  ])('roundDown(%d, %d) = %d', (x, d, want) => {
    expect(roundDown(x, d)).toBe(want);
  });

  it('never gives -0', () => {
    expect(Object.is(roundDown(-0, 4), 0)).toBe(true);
  });

  it.each([[Number.NaN, 2], [Number.POSITIVE_INFINITY, 2], [1, -1], [1, 1.5], [1, 16]])('rejects (%d, %d)', (x, d) => {
    expect(() => roundDown(x, d)).toThrow(RangeError);
  });
});

describe('roundUp', () => {
  it.each([
    [0.1 + 0.2, 1, 0.3],
    [0.1 + 0.2, 2, 0.3],
    [1.01, 1, 1.1],
    [50025.81, 1, 50025.9],
    [0.57, 2, 0.57], // 56.99999999999999
  ])('roundUp(%d, %d) = %d', (x, d, want) => {
    expect(roundUp(x, d)).toBe(want);
  });
});

describe('roundNearest', () => {
  it.each([
    [1.005, 2, 1.01], // the decimal 1.005, although the double is 1.00499999…
    [2.675, 2, 2.68],
    [1.004, 2, 1],
    [-2.5, 0, -3],
    [2.5, 0, 3],
    [0.30000000000000004, 8, 0.3],
  ])('roundNearest(%d, %d) = %d', (x, d, want) => {
    expect(roundNearest(x, d)).toBe(want);
  });
});

describe('roundPrice', () => {
  it.each([
    [50000.17, 1, 'buy', 50000.1], // a buy never bids above what was asked
    [50000.11, 1, 'sell', 50000.2], // a sell never offers below
    [50000.15, 1, undefined, 50000.2],
    [2000.004, 2, undefined, 2000],
    [0.1 + 0.2, 1, 'sell', 0.3],
  ] as const)('roundPrice(%d, %d, %s) = %d', (x, d, side, want) => {
    expect(roundPrice(x, d, side)).toBe(want);
  });

  it('roundAmount truncates to lot decimals', () => {
    expect(roundAmount(0.999999999, { amountPrecision: 8 })).toBe(0.99999999);
  });
});

describe('meetsMinimums', () => {
  const spec = { symbol: 'BTC/USD', minAmount: 0.00005, minCost: 0.5 };
  it.each([
    [0.00005, 10_000, true], // exactly both minimums: 0.00005 × 10000 = 0.5
    [0.00004, 100_000, false], // below ordermin even though cost is 4 USD
    [0.00005, 5_000, false], // 0.25 USD < costmin
    [0.0001, 5_000, true],
    [1, 0.4, false],
  ])('amount %d at %d → %s', (amount, price, ok) => {
    expect(meetsMinimums(spec, amount, price)).toBe(ok);
    expect(minimumViolation(spec, amount, price) === null).toBe(ok);
  });

  it('says which minimum failed', () => {
    expect(minimumViolation(spec, 0.00004, 100_000)).toMatch(/ordermin/);
    expect(minimumViolation(spec, 0.00005, 5_000)).toMatch(/costmin/);
  });
});
