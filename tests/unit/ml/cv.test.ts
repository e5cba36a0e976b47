import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { purgedFolds } from '../../../lib/ml/cv.ts';

const H = 3_600_000;
/** Hourly rows with a label horizon of h bars. */
const rows = (n: number, h: number) => Array.from({ length: n }, (_, i) => ({ time: i * H, labelEnd: (i + h + 1) * H }));

describe('purgedFolds', () => {
  it('walk-forward: trains only before the test block and purges labels reaching into it', () => {
    const r = rows(100, 5);
    const folds = purgedFolds(r, { folds: 2, initialTrainFraction: 0.5, embargoMs: 0, trainSide: 'past' });
    expect(folds).toHaveLength(2);
    const f = folds[0]!;
    const first = Math.min(...f.test);
    expect(r[first]!.time).toBe(f.testStart);
    // Rows first-5 .. first-1 have labels ending after testStart: purged.
    expect(f.purged).toBe(5);
    expect(Math.max(...f.train)).toBe(first - 6);
    expect(folds[1]!.train.every((i) => r[i]!.time < folds[1]!.testStart)).toBe(true);
  });

  it('walk-forward: the embargo is a gap before the block, on top of the purge', () => {
    const r = rows(100, 5);
    const f = purgedFolds(r, { folds: 2, initialTrainFraction: 0.5, embargoMs: 3 * H, trainSide: 'past' })[0]!;
    const first = Math.min(...f.test);
    expect(f.purged).toBe(5);
    expect(f.embargoed).toBe(3);
    expect(Math.max(...f.train)).toBe(first - 9);
  });

  it('blocked k-fold: embargo drops the rows just after the test block', () => {
    const r = rows(90, 2);
    const folds = purgedFolds(r, { folds: 3, initialTrainFraction: 0, embargoMs: 4 * H, trainSide: 'both' });
    const mid = folds[1]!;
    const after = mid.train.filter((i) => r[i]!.time >= mid.testEnd);
    expect(Math.min(...after) * H).toBe(mid.testEnd + 4 * H);
    expect(mid.embargoed).toBe(4);
    expect(mid.purged).toBe(2);
  });

  it('no training label ever overlaps its test window, no embargoed row is trained on (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 30, max: 400 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 40 }),
        fc.constantFrom<'past' | 'both'>('past', 'both'),
        (n, h, k, emb, side) => {
          const r = rows(n, h);
          for (const f of purgedFolds(r, { folds: k, initialTrainFraction: 0.3, embargoMs: emb * H, trainSide: side })) {
            const test = new Set(f.test);
            for (const i of f.train) {
              const row = r[i]!;
              expect(test.has(i)).toBe(false);
              expect(row.time < f.testEnd && row.labelEnd > f.testStart).toBe(false);
              expect(row.time >= f.testEnd && row.time < f.testEnd + emb * H).toBe(false);
              if (side === 'past') expect(row.labelEnd).toBeLessThanOrEqual(f.testStart - emb * H);
            }
            expect(f.train.length + f.test.length + f.purged + f.embargoed).toBeLessThanOrEqual(n);
          }
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it('test blocks tile the evaluated span without overlap', () => {
    const r = rows(500, 4);
    const folds = purgedFolds(r, { folds: 4, initialTrainFraction: 0.2, embargoMs: 0, trainSide: 'past' });
    const all = folds.flatMap((f) => f.test);
    expect(new Set(all).size).toBe(all.length);
    expect(Math.max(...all)).toBe(499);
  });
});
