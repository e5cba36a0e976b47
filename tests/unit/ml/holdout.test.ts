import { describe, expect, it } from 'vitest';
import type { Row } from '../../../lib/ml/dataset.ts';
import { cursorOf, evaluationPlan, scoreProbs, splitAt } from '../../../lib/ml/holdout.ts';

const H = 3_600_000;
/** Decision times of 500 hourly bars: 1h … 500h. */
const times = Array.from({ length: 500 }, (_, i) => (i + 1) * H);
const o = { evalBars: 100, minEvalBars: 30 };

describe('evaluationPlan', () => {
  it('no champion: the newest evalBars bars, nobody to compare with', () => {
    expect(evaluationPlan(times, [], o)).toEqual({ ok: true, from: 401 * H, to: 500 * H, bars: 100, comparator: null });
  });

  it('compares with the newest lineage member that had learned none of the window (frozen before it)', () => {
    const lineage = [
      { version: 'gbt-a', trainedThrough: 300 * H },
      { version: 'gbt-a.u1', trainedThrough: 380 * H },
      { version: 'gbt-a.u2', trainedThrough: 401 * H }, // learned rows up to the window's first decision: still unseen
      { version: 'gbt-a.u3', trainedThrough: 470 * H },
    ];
    expect(evaluationPlan(times, lineage, o)).toEqual({ ok: true, from: 401 * H, to: 500 * H, bars: 100, comparator: lineage[2] });
  });

  it('when even the full fit had learned part of the window, the window starts at its cursor', () => {
    const lineage = [
      { version: 'gbt-b.u1', trainedThrough: 480 * H },
      { version: 'gbt-b', trainedThrough: 440 * H },
    ];
    expect(evaluationPlan(times, lineage, o)).toEqual({ ok: true, from: 440 * H, to: 500 * H, bars: 61, comparator: lineage[1] });
  });

  it('refuses when the champion has learned all but a few bars, or the history is too short', () => {
    const plan = evaluationPlan(times, [{ version: 'gbt-c', trainedThrough: 490 * H }], o);
    expect(plan).toEqual({ ok: false, reason: expect.stringMatching(/gbt-c\) has learned all but 11 labelled bars: fewer than 30/) });
    expect(evaluationPlan(times.slice(0, 10), [], o)).toEqual({ ok: false, reason: expect.stringMatching(/too little history to hold out 30 bars: 10 labelled bars/) });
  });
});

const row = (time: number, y: 0 | 1 | null, h = 24): Row => ({
  pair: 'BTC/USD',
  time,
  decisionTime: time + H,
  labelEnd: y === null ? Infinity : time + (h + 1) * H,
  x: new Float64Array([time]),
  y,
  grossReturn: 0,
  nextReturn: 0,
});

describe('splitAt and cursorOf', () => {
  it('the challenger learns only rows whose label was known when the window starts; the window is every labelled row decided in it', () => {
    const rows = [row(0, 1), row(10 * H, 0), row(75 * H, 1), row(76 * H, 0), row(99 * H, 1), row(100 * H, 0), row(150 * H, null)];
    const from = 101 * H;
    const { train, evaluate } = splitAt(rows, from);
    expect(train.map((r) => r.time / H)).toEqual([0, 10, 75, 76]); // 76 + 25 = 101: known exactly at the start
    expect(evaluate.map((r) => r.time / H)).toEqual([100]);
    for (const t of train) for (const e of evaluate) expect(t.labelEnd).toBeLessThanOrEqual(e.decisionTime);
    expect(cursorOf(train)).toBe(101 * H);
    expect(cursorOf(rows)).toBe(125 * H); // the unlabelled row does not count
  });

  it('scores probabilities', () => {
    const s = scoreProbs([0.9, 0.2, 0.6], [1, 0, 1]);
    expect(s.logLoss).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8) + Math.log(0.6)) / 3, 12);
    expect(s.brier).toBeCloseTo((0.01 + 0.04 + 0.16) / 3, 12);
    expect(s.auc).toBe(1);
  });
});
