import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADAPTATION_POLICY as P, adaptThresholds, type AdaptiveThresholds, type ClosedTrade, type ExitReason } from '../../../lib/strategy/adaptation.ts';

const start: AdaptiveThresholds = { entry: 0.56, exit: 0.5, slMultiplier: 2, tpMultiplier: 3 };
const trades = (n: number, netReturn: number, exitReason: ExitReason = 'signal'): ClosedTrade[] =>
  Array.from({ length: n }, (_, i) => ({ closedAt: 1_000 + i, netReturn, exitReason }));
const mixed = (n: number, netReturn: number, reasons: ExitReason[]): ClosedTrade[] =>
  Array.from({ length: n }, (_, i) => ({ closedAt: i, netReturn, exitReason: reasons[i % reasons.length] as ExitReason }));

describe('adaptThresholds', () => {
  it('changes nothing before the minimum number of trades', () => {
    const r = adaptThresholds('company', start, trades(P.minTrades - 1, -0.01, 'stop-loss'));
    expect(r.change).toBeNull();
    expect(r.thresholds).toBe(start);
  });

  it.each([
    { name: 'losing trades raise the entry threshold by one step', t: mixed(30, -0.01, ['signal', 'take-profit', 'stop-loss', 'signal', 'signal']), key: 'entry', delta: +P.thresholdStep },
    { name: 'winning trades lower it by one step', t: mixed(30, 0.01, ['signal', 'take-profit', 'stop-loss', 'signal', 'signal']), key: 'entry', delta: -P.thresholdStep },
    { name: 'mostly stopped out widens the stop', t: mixed(30, -0.01, ['stop-loss', 'stop-loss', 'take-profit']), key: 'slMultiplier', delta: +P.multiplierStep },
    { name: 'never stopped out tightens the stop', t: mixed(30, 0.01, ['signal', 'take-profit']), key: 'slMultiplier', delta: -P.multiplierStep },
    { name: 'targets rarely hit bring the target closer', t: mixed(30, 0.01, ['signal', 'stop-loss']), key: 'tpMultiplier', delta: -P.multiplierStep },
    { name: 'targets mostly hit push it out', t: mixed(30, 0.01, ['take-profit', 'take-profit', 'stop-loss']), key: 'tpMultiplier', delta: +P.multiplierStep },
  ] as const)('$name', ({ t, key, delta }) => {
    const r = adaptThresholds('director-1', start, t);
    expect(r.change).not.toBeNull();
    expect(r.change!.before).toEqual(start);
    expect(r.change!.after[key]).toBeCloseTo(start[key] + delta, 9);
    expect(r.change!.accountId).toBe('director-1');
    expect(r.change!.reasons.length).toBeGreaterThan(0);
    expect(r.thresholds).toEqual(r.change!.after);
  });

  it('keeps exit below entry by the hysteresis gap', () => {
    const r = adaptThresholds('company', { ...start, entry: 0.52, exit: 0.51 }, trades(30, 0.01, 'take-profit'));
    expect(r.thresholds.exit).toBeLessThanOrEqual(r.thresholds.entry - P.minGap + 1e-12);
  });

  it('only looks at the most recent window of trades', () => {
    const old = trades(100, 0.05, 'take-profit').map((t) => ({ ...t, closedAt: t.closedAt - 10_000 }));
    const r = adaptThresholds('company', start, [...old, ...mixed(P.window, -0.01, ['signal', 'take-profit', 'stop-loss', 'signal', 'signal'])]);
    expect(r.stats.trades).toBe(P.window);
    expect(r.thresholds.entry).toBeGreaterThan(start.entry);
  });

  it('stays inside the bounds and moves at most one step per call, whatever the trades (property)', () => {
    const trade = fc.record({
      closedAt: fc.integer({ min: 0, max: 1e9 }),
      netReturn: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
      exitReason: fc.constantFrom<ExitReason>('stop-loss', 'take-profit', 'signal', 'time'),
    });
    fc.assert(
      fc.property(fc.array(fc.array(trade, { maxLength: 80 }), { minLength: 1, maxLength: 15 }), (batches) => {
        let th = start;
        for (const b of batches) {
          const r = adaptThresholds('company', th, b);
          const t = r.thresholds;
          for (const k of ['entry', 'exit', 'slMultiplier', 'tpMultiplier'] as const) {
            const [lo, hi] = P.bounds[k];
            expect(t[k]).toBeGreaterThanOrEqual(lo);
            expect(t[k]).toBeLessThanOrEqual(hi);
          }
          expect(Math.abs(t.entry - th.entry)).toBeLessThanOrEqual(P.thresholdStep + 1e-9);
          expect(Math.abs(t.slMultiplier - th.slMultiplier)).toBeLessThanOrEqual(P.multiplierStep + 1e-9);
          expect(Math.abs(t.tpMultiplier - th.tpMultiplier)).toBeLessThanOrEqual(P.multiplierStep + 1e-9);
          expect(t.exit).toBeLessThanOrEqual(t.entry - P.minGap + 1e-9);
          th = t;
        }
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it('brings out-of-bounds settings back inside and says so', () => {
    const r = adaptThresholds('company', { entry: 0.9, exit: 0.1, slMultiplier: 10, tpMultiplier: 0 }, []);
    expect(r.thresholds).toEqual({ entry: 0.7, exit: 0.4, slMultiplier: 4, tpMultiplier: 1 });
    expect(r.change!.reasons[0]).toMatch(/bounds/);
  });
});
