import { describe, expect, it } from 'vitest';
import { nextCronTime } from '../../../lib/runtime/cron-next.ts';
import { parseCron } from '../../../lib/runtime/cron.ts';
import { summarizeAccount, totalsByMode, type AccountFacts } from '../../../lib/reports/account-summary.ts';
import { summaryTable } from '../../../lib/reports/summary-table.ts';

const NOW = Date.parse('2026-01-05T12:30:00Z');
const NEXT = Date.parse('2026-01-05T13:01:00Z');

const facts = (o: Partial<AccountFacts> & { slug: string }): AccountFacts => ({
  account: { id: `id-${o.slug}`, slug: o.slug, name: o.slug, createdAt: Date.parse('2026-01-01T00:00:00Z') },
  simulation: { enabled: true, initialUsd: 10_000 },
  limits: { softDailyDrawdown: 0.03, hardDailyDrawdown: 0.05 },
  tradingState: null,
  equity: null,
  balances: null,
  positions: [],
  openOrders: [],
  hedge: null,
  lastCycle: null,
  ...o,
});

describe('summarizeAccount', () => {
  it('before the first cycle a simulation holds its starting balance: equity, cash and a fully USD hedge', () => {
    const s = summarizeAccount(facts({ slug: 'a', simulation: { enabled: true, initialUsd: 2_500 } }), {}, NOW, NEXT);
    expect(s).toMatchObject({ mode: 'simulation', equityUsd: 2_500, cashUsd: 2_500, equityAt: null, startingBalanceUsd: 2_500, lastCycle: null, nextCycleAt: '2026-01-05T13:01:00.000Z' });
    expect(s.tradingState).toEqual({ state: 'ACTIVE', reason: 'no cycle has run yet', since: '2026-01-01T00:00:00.000Z' });
    expect(s.hedge).toEqual({ mode: null, target: null, actual: 1, reason: null });
    expect(s.today).toEqual({ pnlUsd: null, pnlPct: null, dayStartEquityUsd: null });
  });

  it('a live account before its first reconciliation is unvalued (null), not zero', () => {
    const s = summarizeAccount(facts({ slug: 'l', simulation: { enabled: false, initialUsd: 10_000 } }), {}, NOW, NEXT);
    expect(s).toMatchObject({ mode: 'live', equityUsd: null, cashUsd: null, startingBalanceUsd: null, holdings: [] });
  });

  it("after cycles: the cycle's equity, holdings and positions at the marks, today's PnL from the day's first equity, drawdown vs limits", () => {
    const s = summarizeAccount(
      facts({
        slug: 'a',
        balances: { USD: 6_000, BTC: 0.1 },
        equity: { ts: NOW - 1_800_000, equityUsd: 10_100, cashUsd: 6_000, hedgeRatio: 0.59, drawdownFromPeak: 0.01 },
        tradingState: { state: 'REDUCING', since: NOW - 600_000, reason: 'daily drawdown 3.1% ≥ 3%', dayKey: '2026-01-05', dayStartEquityUsd: 10_000, drawdown: 0.031 },
        positions: [{ pair: 'BTC/USD', qty: 0.1, avgPrice: 39_000, stopPrice: 37_000, takeProfitPrice: 45_000, openedAt: NOW - 7_200_000 }],
      }),
      { 'BTC/USD': 41_000 },
      NOW,
      NEXT,
    );
    expect(s).toMatchObject({ equityUsd: 10_100, cashUsd: 6_000, equityAt: '2026-01-05T12:00:00.000Z' });
    expect(s.holdings).toEqual([
      { asset: 'USD', amount: 6_000, priceUsd: 1, valueUsd: 6_000 },
      { asset: 'BTC', amount: 0.1, priceUsd: 41_000, valueUsd: 4_100 },
    ]);
    expect(s.positions[0]).toMatchObject({ pair: 'BTC/USD', markPrice: 41_000, valueUsd: 4_100, unrealizedPnlUsd: 200, stopPrice: 37_000, takeProfitPrice: 45_000 });
    expect(s.today).toEqual({ pnlUsd: 100, pnlPct: 0.01, dayStartEquityUsd: 10_000 });
    expect(s.drawdown).toEqual({ daily: 0.031, softLimit: 0.03, hardLimit: 0.05, fromPeak: 0.01 });
    expect(s.tradingState.state).toBe('REDUCING');
    // A trading state from an earlier day says nothing about today.
    const later = summarizeAccount(facts({ slug: 'a', tradingState: { state: 'ACTIVE', since: 0, reason: null, dayKey: '2026-01-04', dayStartEquityUsd: 9_000, drawdown: 0.02 } }), {}, NOW, NEXT);
    expect(later.today.pnlUsd).toBeNull();
    expect(later.drawdown.daily).toBe(0);
  });
});

describe('totalsByMode', () => {
  it('adds simulated and live money separately, never together, and counts unvalued accounts', () => {
    const accounts = [
      summarizeAccount(facts({ slug: 's1' }), {}, NOW, NEXT),
      summarizeAccount(facts({ slug: 's2', simulation: { enabled: true, initialUsd: 5_000 } }), {}, NOW, NEXT),
      summarizeAccount(facts({ slug: 'l1', simulation: { enabled: false, initialUsd: 1 }, balances: { USD: 700 } }), {}, NOW, NEXT),
      summarizeAccount(facts({ slug: 'l2', simulation: { enabled: false, initialUsd: 1 } }), {}, NOW, NEXT),
    ];
    const t = totalsByMode(accounts);
    expect(t.simulation).toMatchObject({ accounts: 2, equityUsd: 15_000, cashUsd: 15_000, unvalued: 0 });
    expect(t.live).toMatchObject({ accounts: 2, equityUsd: 700, cashUsd: 700, unvalued: 1 });
    const table = summaryTable({ at: new Date(NOW).toISOString(), accounts, totals: t });
    expect(table).toContain('total SIMULATION: 2 account(s), equity 15,000.00 USD');
    expect(table).toContain('total LIVE: 2 account(s), equity 700.00 USD, cash 700.00 USD, today —, 1 not valued yet');
    expect(table).toMatch(/^l2\s+LIVE\s+ACTIVE\s+—/m);
  });
});

describe('nextCronTime', () => {
  it('is the next matching minute strictly after the time', () => {
    const hourly = parseCron('1 * * * *');
    expect(new Date(nextCronTime(hourly, NOW)).toISOString()).toBe('2026-01-05T13:01:00.000Z');
    expect(new Date(nextCronTime(hourly, Date.parse('2026-01-05T13:01:00Z'))).toISOString()).toBe('2026-01-05T14:01:00.000Z');
    expect(new Date(nextCronTime(parseCron('30 2 * * *'), NOW)).toISOString()).toBe('2026-01-06T02:30:00.000Z');
    // Day-of-month and day-of-week both restricted: either matches (2026-01-05 is a Monday).
    expect(new Date(nextCronTime(parseCron('0 0 13 * 5'), NOW)).toISOString()).toBe('2026-01-09T00:00:00.000Z');
    expect(() => nextCronTime(parseCron('0 0 31 2 *'), NOW)).toThrow(/never fires/);
  });
});
