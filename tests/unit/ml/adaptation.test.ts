import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADAPTATION_POLICY as P, adaptThresholds, closedTradesFromFills, type AdaptiveThresholds, type ClosedTrade, type ExitReason, type TradeFill } from '../../../lib/strategy/adaptation.ts';

const start: AdaptiveThresholds = { entry: 0.56, exit: 0.5, slMultiplier: 2, tpMultiplier: 3 };
const trades = (n: number, netReturn: number, exitReason: ExitReason = 'signal'): ClosedTrade[] =>
  Array.from({ length: n }, (_, i) => ({ openedAt: 500 + i, closedAt: 1_000 + i, netReturn, exitReason }));
const mixed = (n: number, netReturn: number, reasons: ExitReason[]): ClosedTrade[] =>
  Array.from({ length: n }, (_, i) => ({ openedAt: i, closedAt: i, netReturn, exitReason: reasons[i % reasons.length] as ExitReason }));

describe('adaptThresholds', () => {
  it('changes nothing before the minimum number of trades', () => {
    const r = adaptThresholds('company', start, trades(P.minTrades - 1, -0.01, 'stop'));
    expect(r.change).toBeNull();
    expect(r.thresholds).toBe(start);
  });

  it.each([
    { name: 'losing trades raise the entry threshold by one step', t: mixed(30, -0.01, ['signal', 'take-profit', 'stop', 'signal', 'signal']), key: 'entry', delta: +P.thresholdStep },
    { name: 'winning trades lower it by one step', t: mixed(30, 0.01, ['signal', 'take-profit', 'stop', 'signal', 'signal']), key: 'entry', delta: -P.thresholdStep },
    { name: 'mostly stopped out widens the stop', t: mixed(30, -0.01, ['stop', 'stop', 'take-profit']), key: 'slMultiplier', delta: +P.multiplierStep },
    { name: 'never stopped out tightens the stop', t: mixed(30, 0.01, ['signal', 'take-profit']), key: 'slMultiplier', delta: -P.multiplierStep },
    { name: 'targets rarely hit while the other exits lose bring the target closer', t: mixed(30, -0.01, ['signal', 'stop']), key: 'tpMultiplier', delta: -P.multiplierStep },
    { name: 'targets mostly hit push it out', t: mixed(30, 0.01, ['take-profit', 'take-profit', 'stop']), key: 'tpMultiplier', delta: +P.multiplierStep },
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
    const r = adaptThresholds('company', start, [...old, ...mixed(P.window, -0.01, ['signal', 'take-profit', 'stop', 'signal', 'signal'])]);
    expect(r.stats.trades).toBe(P.window);
    expect(r.thresholds.entry).toBeGreaterThan(start.entry);
  });

  it('stays inside the bounds and moves at most one step per call, whatever the trades (property)', () => {
    const trade = fc.record({
      openedAt: fc.constant(0),
      closedAt: fc.integer({ min: 0, max: 1e9 }),
      netReturn: fc.double({ min: -0.2, max: 0.2, noNaN: true }),
      exitReason: fc.constantFrom<ExitReason>('stop', 'take-profit', 'signal', 'halt'),
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

  it('targets rarely hit while the signal exits win: the target stays (no reason to move it)', () => {
    const r = adaptThresholds('company', start, mixed(30, 0.01, ['signal', 'signal', 'signal', 'stop']));
    expect(r.stats.targetRate).toBe(0);
    expect(r.thresholds.tpMultiplier).toBe(start.tpMultiplier);
  });

  it('leaves a value set outside its range alone (an admin put it there), and still steps the others', () => {
    const odd = { entry: 0.9, exit: 0.1, slMultiplier: 10, tpMultiplier: 0.5 };
    expect(adaptThresholds('company', odd, []).change).toBeNull();
    const r = adaptThresholds('company', { ...odd, slMultiplier: 2 }, mixed(30, -0.01, ['stop', 'stop', 'signal']));
    expect(r.thresholds).toEqual({ ...odd, slMultiplier: 2 + P.multiplierStep });
  });

  it('learns only from trades opened under the values in force: the same trades never step a value twice (no nightly ratchet)', () => {
    const losing = mixed(30, -0.01, ['signal', 'stop', 'signal']); // opened at 0…29
    const first = adaptThresholds('company', start, losing, P, 0);
    expect(first.change!.after.entry).toBeCloseTo(start.entry + P.thresholdStep, 9);
    expect(first.change!.after.tpMultiplier).toBeCloseTo(start.tpMultiplier - P.multiplierStep, 9);
    // The next nights: the change took effect at 100; the same trades are no evidence about it.
    let th = first.thresholds;
    for (let night = 0; night < 10; night++) {
      const r = adaptThresholds('company', th, losing, P, 100);
      expect(r.change).toBeNull();
      expect(r.stats.trades).toBe(0);
      th = r.thresholds;
    }
    // minTrades new trades opened after it: one more step.
    const fresh = mixed(P.minTrades, -0.01, ['signal', 'stop', 'signal']).map((t) => ({ ...t, openedAt: 100 + t.openedAt, closedAt: 200 + t.closedAt }));
    const next = adaptThresholds('company', th, [...losing, ...fresh], P, 100);
    expect(next.stats.trades).toBe(P.minTrades);
    expect(next.thresholds.entry).toBeCloseTo(start.entry + 2 * P.thresholdStep, 9);
  });
});

describe('closedTradesFromFills', () => {
  const f = (o: Partial<TradeFill> & Pick<TradeFill, 'time' | 'side' | 'qty' | 'price' | 'order' | 'cause'>): TradeFill => ({ pair: 'ETH/USD', fee: 0, realizedPnl: 0, ...o });

  it('one trade per exit order, by the cause it was tagged with; its cost is notional − fee − PnL; hedge sales and entries are no trades', () => {
    const trades = closedTradesFromFills([
      f({ time: 10, side: 'buy', qty: 2, price: 100, fee: 0.52, order: 'e1', cause: 'entry' }),
      f({ time: 20, side: 'sell', qty: 0.5, price: 110, fee: 0.143, realizedPnl: 4.727, order: 'h1', cause: 'hedge' }),
      // A take-profit exit the cycle enforced as a market sale, filled in two parts.
      f({ time: 30, side: 'sell', qty: 1, price: 120, fee: 0.312, realizedPnl: 19.428, order: 'x1', cause: 'take-profit' }),
      f({ time: 40, side: 'sell', qty: 0.5, price: 118, fee: 0.1534, realizedPnl: 8.7166, order: 'x1', cause: 'take-profit' }),
      f({ time: 50, side: 'buy', qty: 1, price: 100, fee: 0.26, order: 'e2', cause: 'entry' }),
      f({ time: 60, side: 'sell', qty: 1, price: 95, fee: 0.247, realizedPnl: -5.507, order: 's1', cause: 'stop' }),
    ]);
    expect(trades).toHaveLength(2);
    expect(trades[0]).toMatchObject({ openedAt: 10, closedAt: 40, exitReason: 'take-profit' });
    const cost = 1 * 120 - 0.312 - 19.428 + (0.5 * 118 - 0.1534 - 8.7166);
    expect(trades[0]!.netReturn).toBeCloseTo((19.428 + 8.7166) / cost, 12);
    expect(trades[1]).toMatchObject({ openedAt: 50, closedAt: 60, exitReason: 'stop' });
    expect(trades[1]!.netReturn).toBeCloseTo(-5.507 / (95 - 0.247 + 5.507), 12);
  });

  it('a position keeps the time it was opened while it is added to; pairs are apart; fills out of order are sorted', () => {
    const trades = closedTradesFromFills([
      f({ time: 30, side: 'sell', qty: 2, price: 100, order: 'x', cause: 'signal' }),
      f({ time: 5, side: 'buy', qty: 1, price: 100, order: 'b', pair: 'BTC/USD', cause: 'entry' }),
      f({ time: 10, side: 'buy', qty: 1, price: 100, order: 'a', cause: 'entry' }),
      f({ time: 20, side: 'buy', qty: 1, price: 100, order: 'a2', cause: 'entry' }),
      f({ time: 35, side: 'sell', qty: 1, price: 100, order: 'y', pair: 'BTC/USD', cause: 'halt' }),
    ]);
    expect(trades.map((t) => [t.openedAt, t.closedAt, t.exitReason])).toEqual([
      [10, 30, 'signal'],
      [5, 35, 'halt'],
    ]);
  });
});
