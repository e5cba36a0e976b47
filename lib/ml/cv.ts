/**
 * Purged, embargoed cross-validation over time (López de Prado). Test blocks are consecutive time
 * ranges; a training row is dropped when its label window [time, labelEnd) overlaps the test block
 * (purge). The embargo adds a gap for serial correlation beyond the label horizon: with
 * `trainSide: 'both'` (blocked k-fold) rows starting within `embargoMs` after the block are dropped;
 * with 'past' (walk-forward, train strictly before the block, so nothing after it is trained on) the
 * gap sits before the block: labels must be known `embargoMs` before the block starts.
 */
export interface FoldOptions {
  folds: number;
  /** 'past' only: share of the distinct row times kept for the first training window. */
  initialTrainFraction: number;
  embargoMs: number;
  trainSide: 'past' | 'both';
}

export interface Fold {
  testStart: number;
  testEnd: number; // exclusive
  train: number[];
  test: number[];
  purged: number;
  embargoed: number;
}

export function purgedFolds(rows: readonly { time: number; labelEnd: number }[], opts: FoldOptions): Fold[] {
  if (rows.length === 0) return [];
  if (!Number.isInteger(opts.folds) || opts.folds < 1) throw new Error(`folds must be a positive integer, got ${opts.folds}`);
  // Block boundaries sit on row times: equal shares of the distinct times after the initial window.
  const times = [...new Set(rows.map((r) => r.time))].sort((a, b) => a - b);
  const first = opts.trainSide === 'past' ? Math.floor(times.length * opts.initialTrainFraction) : 0;
  const count = times.length - first;
  if (count < opts.folds) throw new Error(`${count} distinct times cannot make ${opts.folds} test blocks`);
  const lastTime = times[times.length - 1] as number;
  const out: Fold[] = [];
  for (let k = 0; k < opts.folds; k++) {
    const testStart = times[first + Math.floor((k * count) / opts.folds)] as number;
    const testEnd = k === opts.folds - 1 ? lastTime + 1 : (times[first + Math.floor(((k + 1) * count) / opts.folds)] as number);
    const fold: Fold = { testStart, testEnd, train: [], test: [], purged: 0, embargoed: 0 };
    const past = opts.trainSide === 'past';
    rows.forEach((r, i) => {
      if (r.time >= testStart && r.time < testEnd) fold.test.push(i);
      else if (past && r.time >= testEnd) return;
      else if (r.time < testEnd && r.labelEnd > testStart) fold.purged++;
      else if (past ? r.labelEnd > testStart - opts.embargoMs : r.time >= testEnd && r.time < testEnd + opts.embargoMs) fold.embargoed++;
      else fold.train.push(i);
    });
    out.push(fold);
  }
  return out;
}
