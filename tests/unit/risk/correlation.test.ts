import { describe, expect, it } from 'vitest';
import { alignCloses, correlationGroups, correlationMatrix, type CorrelationMatrix } from '../../../lib/risk/index.ts';
import { krakenHourly } from '../strategy/ohlcv.ts';

/** A deterministic pseudo-random walk (LCG), so tests do not depend on Math.random. */
function walk(seed: number, n: number): number[] {
  let x = seed >>> 0;
  const out = [100];
  for (let i = 1; i < n; i++) {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    out.push(out[i - 1]! * Math.exp((x / 2 ** 32 - 0.5) * 0.02));
  }
  return out;
}

describe('correlationMatrix', () => {
  const a = walk(1, 300);
  const b = walk(2, 300);
  const neg = a.map((p) => 10_000 / p); // log returns exactly negated
  const scaled = a.map((p) => p * 3); // same returns

  it.each([
    ['a series with itself (scaled)', scaled, 1],
    ['its inverse', neg, -1],
  ])('%s', (_name, other, want) => {
    const m = correlationMatrix({ A: a, B: other }, 100);
    expect(m.pairs).toEqual(['A', 'B']);
    expect(m.values[0]![1]).toBeCloseTo(want, 10);
    expect(m.values[1]![0]).toBe(m.values[0]![1]);
    expect(m.values[0]![0]).toBe(1);
  });

  it('independent walks are weakly correlated', () => {
    expect(Math.abs(correlationMatrix({ A: a, B: b }, 250).values[0]![1]!)).toBeLessThan(0.2);
  });

  it('uses only the last `window` returns', () => {
    // Identical for the last 50 returns, unrelated before.
    const tail = a.slice(-51);
    const c = [...b.slice(0, 249).map((p) => p * (tail[0]! / b[248]!)), ...tail];
    expect(correlationMatrix({ A: a, C: c }, 50).values[0]![1]).toBeCloseTo(1, 10);
    expect(correlationMatrix({ A: a, C: c }, 200).values[0]![1]).toBeLessThan(0.9);
  });

  it('too little history is unknown (NaN); a constant series is uncorrelated (0)', () => {
    const m = correlationMatrix({ A: a, NEW: a.slice(-5), PEG: a.map(() => 1) }, 100);
    expect(m.values[0]![1]).toBeNaN();
    expect(m.values[0]![2]).toBe(0);
  });

  it('rejects non-positive closes and a bad window', () => {
    expect(() => correlationMatrix({ A: [1, 0, 2], B: [1, 2, 3] }, 2)).toThrow(RangeError);
    expect(() => correlationMatrix({ A: a }, 1)).toThrow(RangeError);
  });

  it('real Kraken hourly returns: BTC~ETH tight; SOL decoupled after FTX, linked over a longer window', () => {
    const closes = alignCloses({ 'BTC/USD': krakenHourly('BTC'), 'ETH/USD': krakenHourly('ETH'), 'SOL/USD': krakenHourly('SOL') });
    expect(closes['BTC/USD']!.length).toBe(closes['SOL/USD']!.length);
    // The last 720 common hours end 2023-01-07: December 2022, after FTX hit SOL on its own.
    const month = correlationMatrix(closes, 720);
    expect(month.values[0]![1]).toBeGreaterThan(0.85);
    expect(month.values[0]![2]).toBeLessThan(0.6);
    expect(correlationGroups(month, 0.7).groups).toEqual([['BTC/USD', 'ETH/USD'], ['SOL/USD']]);
    const long = correlationMatrix(closes, 5000);
    expect(correlationGroups(long, 0.7).groups).toEqual([['BTC/USD', 'ETH/USD', 'SOL/USD']]);
  });
});

describe('correlationGroups (union-find)', () => {
  const m = (pairs: string[], upper: number[]): CorrelationMatrix => {
    const n = pairs.length;
    const values = pairs.map(() => new Array<number>(n).fill(1));
    let k = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        values[i]![j] = upper[k]!;
        values[j]![i] = upper[k++]!;
      }
    return { pairs, values };
  };
  // pairs A B C D; upper triangle order: AB AC AD BC BD CD
  it.each([
    ['all independent', [0.1, 0.2, 0.0, 0.3, 0.1, 0.2], 0.7, [['A'], ['B'], ['C'], ['D']]],
    ['one pair linked', [0.8, 0.2, 0.0, 0.3, 0.1, 0.2], 0.7, [['A', 'B'], ['C'], ['D']]],
    ['transitive: A~B, B~C → one group', [0.8, 0.1, 0.0, 0.75, 0.1, 0.2], 0.7, [['A', 'B', 'C'], ['D']]],
    ['threshold is inclusive', [0.7, 0.1, 0.0, 0.1, 0.1, 0.7], 0.7, [['A', 'B'], ['C', 'D']]],
    ['negative correlation does not link', [-0.95, 0.1, 0.0, 0.1, 0.1, 0.1], 0.7, [['A'], ['B'], ['C'], ['D']]],
    ['unknown correlation links (cautious)', [Number.NaN, 0.1, 0.0, 0.1, 0.1, 0.1], 0.7, [['A', 'B'], ['C'], ['D']]],
  ])('%s', (_name, upper, threshold, groups) => {
    const g = correlationGroups(m(['A', 'B', 'C', 'D'], upper), threshold);
    expect(g.groups).toEqual(groups);
    groups.forEach((members, gi) => members.forEach((p) => expect(g.groupOf[p]).toBe(gi)));
  });

  it('unknown correlation can be treated as independent', () => {
    expect(correlationGroups(m(['A', 'B'], [Number.NaN]), 0.7, false).groups).toEqual([['A'], ['B']]);
  });
});
