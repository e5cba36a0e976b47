import { describe, expect, it } from 'vitest';
import { shouldPromote, type ModelMetrics, type ModelRecord } from '../../../lib/ml/registry.ts';

const rec = (version: string, m: Partial<ModelMetrics>): ModelRecord => ({
  version,
  kind: 'gbt',
  params: {},
  featureSetHash: 'a'.repeat(64),
  dataWindow: { from: 0, to: 1, pairs: ['BTC/USD'], rows: 100 },
  metrics: { window: { from: 0, to: 10 }, auc: 0.55, logLoss: 0.68, brier: 0.24, netReturn: 0.05, buyHoldReturn: 0.1, folds: 5, ...m },
  model: {},
  status: version === 'champ' ? 'champion' : 'challenger',
  trainedAt: 0,
});

const margin = { logLoss: 0.002, netReturnTolerance: 0 };

describe('shouldPromote', () => {
  it.each([
    { name: 'better log-loss by the margin, same return', ch: { logLoss: 0.677 }, promote: true },
    { name: 'better log-loss and better return', ch: { logLoss: 0.67, netReturn: 0.2 }, promote: true },
    { name: 'log-loss better by less than the margin', ch: { logLoss: 0.679 }, promote: false },
    { name: 'log-loss worse', ch: { logLoss: 0.69, netReturn: 0.5 }, promote: false },
    { name: 'better log-loss but worse net return', ch: { logLoss: 0.6, netReturn: 0.04 }, promote: false },
    { name: 'NaN metrics', ch: { logLoss: NaN }, promote: false },
    { name: 'no folds', ch: { logLoss: 0.6, folds: 0 }, promote: false },
  ])('$name → $promote', ({ ch, promote }) => {
    expect(shouldPromote(rec('champ', {}), rec('v2', ch), margin).promote).toBe(promote);
  });

  it('a net-return tolerance lets a slightly worse return through', () => {
    expect(shouldPromote(rec('champ', {}), rec('v2', { logLoss: 0.6, netReturn: 0.04 }), { logLoss: 0.002, netReturnTolerance: 0.02 }).promote).toBe(true);
  });

  it('promotes the first complete model when there is no champion, and never the champion over itself', () => {
    expect(shouldPromote(null, rec('v1', {})).promote).toBe(true);
    expect(shouldPromote(rec('champ', {}), rec('champ', { logLoss: 0.1 })).promote).toBe(false);
  });

  it('refuses to compare metrics from different evaluation windows', () => {
    const d = shouldPromote(rec('champ', {}), rec('v2', { logLoss: 0.5, netReturn: 1, window: { from: 0, to: 11 } }), margin);
    expect(d).toEqual({ promote: false, reason: expect.stringMatching(/different evaluation windows/) });
  });

  it('explains a refusal', () => {
    const d = shouldPromote(rec('champ', {}), rec('v2', { logLoss: 0.6, netReturn: -0.1 }), margin);
    expect(d).toEqual({ promote: false, reason: expect.stringMatching(/net return/) });
  });
});
