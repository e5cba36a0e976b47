import { describe, expect, it } from 'vitest';
import { modelMetricsSchema, shouldPromote, type HoldoutComparison, type ModelMetrics } from '../../../lib/ml/registry.ts';

/** CV figures with a clear edge over the base rate (0.69 vs 0.68). */
const cv = (m: Partial<ModelMetrics> = {}): ModelMetrics => ({ window: { from: 0, to: 10 }, auc: 0.55, logLoss: 0.68, brier: 0.24, netReturn: 0.05, buyHoldReturn: 0.1, folds: 5, baseRateLogLoss: 0.69, ...m });

type Over = { challenger?: number; baseRate?: number; champion?: number | null; sameSpec?: boolean; sameLabel?: boolean; sim?: Partial<HoldoutComparison['simulation']>; rows?: number };
/** A held-out comparison: challenger 0.60, base rate 0.69, the champion's frozen weights 0.65, simulated +3 % vs baseline +1 %. */
const holdout = (o: Over = {}): HoldoutComparison => ({
  window: { from: 100, to: 200 },
  rows: o.rows ?? 300,
  positiveRate: 0.5,
  challenger: { logLoss: o.challenger ?? 0.6, brier: 0.2, auc: 0.7 },
  baseRate: { logLoss: o.baseRate ?? 0.69, brier: 0.25, auc: 0.5 },
  champion: o.champion === null ? null : 'champ',
  comparator: o.champion === null ? null : { version: 'champ.u3', trainedThrough: 90, scores: { logLoss: o.champion ?? 0.65, brier: 0.22, auc: 0.6 }, sameSpec: o.sameSpec ?? false, sameLabel: o.sameLabel ?? true },
  simulation: { window: { from: 100, to: 224 }, accounts: ['defaults'], challenger: 0.03, champion: 0.005, baseline: 0.01, buyHold: 0.02, challengerTrades: 8, baselineTrades: 4, ...o.sim },
});

const margin = { logLoss: 0.002, refreshTolerance: 0.002 };

describe('shouldPromote', () => {
  it.each([
    { name: 'a new spec better than the frozen champion by the margin', h: holdout(), promote: true },
    { name: 'a new spec better by less than the margin', h: holdout({ challenger: 0.649 }), promote: false },
    { name: 'a new spec worse than the frozen champion', h: holdout({ challenger: 0.67 }), promote: false },
    { name: 'a same-spec refresh exactly as good (identical weights)', h: holdout({ challenger: 0.65, sameSpec: true }), promote: true },
    { name: 'a same-spec refresh worse within the tolerance', h: holdout({ challenger: 0.6519, sameSpec: true }), promote: true },
    { name: 'a same-spec refresh worse beyond the tolerance', h: holdout({ challenger: 0.653, sameSpec: true }), promote: false },
    { name: 'no champion yet', h: holdout({ champion: null }), promote: true },
    { name: 'held-out log-loss no better than the base rate', h: holdout({ challenger: 0.6, baseRate: 0.6, champion: 0.7 }), promote: false },
    { name: 'a simulated loss after costs', h: holdout({ sim: { challenger: -0.001, baseline: -0.02 } }), promote: false },
    { name: 'a simulated return of exactly zero (no trade)', h: holdout({ sim: { challenger: 0, baseline: -0.02, challengerTrades: 0 } }), promote: false },
    { name: 'a simulated gain below the baseline\'s', h: holdout({ sim: { challenger: 0.01, baseline: 0.02 } }), promote: false },
    { name: 'another label, simulated better than the champion', h: holdout({ champion: 0.2, sameLabel: false, sim: { challenger: 0.03, champion: 0.01 } }), promote: true },
    { name: 'another label, simulated worse than the champion', h: holdout({ challenger: 0.5, sameLabel: false, sim: { challenger: 0.03, champion: 0.04 } }), promote: false },
    { name: 'no held-out rows', h: holdout({ rows: 0 }), promote: false },
  ])('$name → $promote', ({ h, promote }) => {
    expect(shouldPromote(cv(), h, margin).promote).toBe(promote);
  });

  it('still asks the walk-forward CV for an edge over a constant', () => {
    expect(shouldPromote(cv({ baseRateLogLoss: 0.681 }), holdout(), margin)).toEqual({ promote: false, reason: expect.stringMatching(/does not beat the base-rate prediction 0.6810 by 0.002 \(walk-forward CV\)/) });
    expect(shouldPromote(cv({ logLoss: NaN }), holdout(), margin)).toEqual({ promote: false, reason: 'challenger has no complete out-of-sample metrics' });
    expect(shouldPromote(cv({ folds: 0 }), holdout(), margin).promote).toBe(false);
  });

  it('names every condition that failed, and the figures compared when it promotes', () => {
    const refused = shouldPromote(cv(), holdout({ challenger: 0.7, sim: { challenger: -0.01, baseline: 0.02 } }), margin);
    expect(refused.promote).toBe(false);
    expect(refused.reason.split('; ')).toEqual([
      expect.stringMatching(/^held-out log-loss 0.7000 does not beat the base-rate prediction 0.6900$/),
      expect.stringMatching(/^simulated net return -1.00 % after costs is not positive$/),
      expect.stringMatching(/^simulated net return -1.00 % does not beat the baseline's 2.00 %$/),
      expect.stringMatching(/^new spec: held-out log-loss 0.7000 vs champ.u3's frozen 0.6500: not lower by 0.002$/),
    ]);
    const promoted = shouldPromote(cv(), holdout({ challenger: 0.65, sameSpec: true }), margin);
    expect(promoted).toEqual({ promote: true, reason: "same-spec refresh: held-out log-loss 0.6500 vs champ.u3's frozen 0.6500; simulated 3.00 % vs baseline 1.00 % over 300 held-out rows" });
  });

  it('a larger margin asks more of a new spec, a zero tolerance asks a refresh not to lose anything', () => {
    expect(shouldPromote(cv({ baseRateLogLoss: 0.9 }), holdout(), { logLoss: 0.06, refreshTolerance: 0 }).promote).toBe(false);
    expect(shouldPromote(cv(), holdout({ challenger: 0.6501, sameSpec: true }), { logLoss: 0.002, refreshTolerance: 0 }).promote).toBe(false);
  });

  it('stored metrics read back: a NaN held-out score (stored as null) as NaN, a NaN CV figure refused', () => {
    const h = holdout();
    const stored = JSON.parse(JSON.stringify({ ...cv(), holdout: { ...h, comparator: { ...h.comparator!, scores: { ...h.comparator!.scores, auc: NaN } } } }));
    expect(stored.holdout.comparator.scores.auc).toBeNull();
    expect(modelMetricsSchema.parse(stored).holdout!.comparator!.scores.auc).toBeNaN();
    expect(() => modelMetricsSchema.parse({ ...stored, logLoss: null })).toThrow();
  });
});
