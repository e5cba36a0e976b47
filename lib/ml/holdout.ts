import type { Row } from './dataset.ts';
import { auc, brier, logLoss } from './metrics.ts';
import type { HoldoutScores } from './registry.ts';

/**
 * Where a challenger is compared with the champion (pure). A comparison is only fair on rows
 * neither model learned, and a model has learned a row once that row's label was known when it was
 * fitted or updated (`trainedThrough`, its data cursor). The live champion is updated online between
 * full retrains, so by the time a retrain runs it has usually learned almost everything: the
 * comparator is then the version of its lineage (its full fit or an earlier online update) that had
 * not yet learned the window — the champion's frozen weights as they stood before it.
 */
export interface LineageMember {
  version: string;
  trainedThrough: number;
}

export interface HoldoutOptions {
  /** Decision times (bars) in the evaluation window: the newest ones with known labels. */
  evalBars: number;
  /** Fewer than this many unseen bars: no fair comparison is possible yet. */
  minEvalBars: number;
}

export const DEFAULT_HOLDOUT: HoldoutOptions = { evalBars: 168, minEvalBars: 48 };

export type EvaluationPlan =
  | { ok: true; from: number; to: number; bars: number; comparator: LineageMember | null }
  | { ok: false; reason: string };

/**
 * The evaluation window [from, to] over the labelled rows' decision times and the comparator.
 * Normally the newest `evalBars` bars, compared with the newest lineage member that had learned none
 * of them. When every member had (the champion's full fit is younger than the window), the window
 * shrinks to start at the full fit's cursor — and with fewer than `minEvalBars` bars left there is
 * nothing fair to compare yet.
 */
export function evaluationPlan(decisionTimes: readonly number[], lineage: readonly LineageMember[], o: HoldoutOptions = DEFAULT_HOLDOUT): EvaluationPlan {
  const times = [...new Set(decisionTimes)].sort((a, b) => a - b);
  if (times.length < o.minEvalBars) return { ok: false, reason: `too little history to hold out ${o.minEvalBars} bars: ${times.length} labelled bars` };
  const to = times[times.length - 1]!;
  let from = times[Math.max(0, times.length - o.evalBars)]!;
  let comparator: LineageMember | null = null;
  if (lineage.length) {
    const unseen = lineage.filter((m) => m.trainedThrough <= from).sort((a, b) => b.trainedThrough - a.trainedThrough);
    comparator = unseen[0] ?? [...lineage].sort((a, b) => a.trainedThrough - b.trainedThrough)[0]!;
    if (comparator.trainedThrough > from) from = times.find((t) => t >= comparator!.trainedThrough) ?? Infinity;
  }
  const bars = times.filter((t) => t >= from).length;
  if (bars < o.minEvalBars)
    return { ok: false, reason: `the champion (${comparator?.version}) has learned all but ${bars} labelled bars: fewer than ${o.minEvalBars} to compare on out of sample` };
  return { ok: true, from, to, bars, comparator };
}

/** The rows a challenger may learn before the window (labels known by `from`) and the window's rows. */
export function splitAt(rows: readonly Row[], from: number): { train: Row[]; evaluate: Row[] } {
  const labelled = rows.filter((r) => r.y !== null);
  return { train: labelled.filter((r) => r.labelEnd <= from), evaluate: labelled.filter((r) => r.decisionTime >= from) };
}

export function scoreProbs(p: readonly number[], y: readonly number[]): HoldoutScores {
  return { logLoss: logLoss(p, y), brier: brier(p, y), auc: auc(p, y) };
}

/** The newest label end among labelled rows: a model fitted on them has learned everything up to it. */
export const cursorOf = (rows: readonly Row[]): number => rows.reduce((m, r) => (r.y !== null && r.labelEnd > m ? r.labelEnd : m), -Infinity);
