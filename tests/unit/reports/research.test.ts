import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { buyAndHoldRun, cashRun, decisionTimes } from '../../../lib/reports/research-benchmarks.ts';
import { markdownTable, researchMarkdown, terminalTable } from '../../../lib/reports/research-table.ts';
import { researchPeriods, researchRow, researchRows, runFromBacktest, type StrategyRun } from '../../../lib/reports/research.ts';

const H = 3_600_000;
const T0 = Date.UTC(2021, 11, 31, 20); // four bars before the turn of the year

/** A run whose equity is given per hour from T0 + 1h (snapshots are stamped at bar closes). */
const run = (equity: number[], positions: number[] = equity.map(() => 0), fills: StrategyRun['fills'] = []): StrategyRun => ({
  scope: 'X/USD',
  strategy: 'baseline',
  initialUsd: 100,
  points: equity.map((e, i) => ({ ts: T0 + (i + 1) * H, equity: e, positions: positions[i]! })),
  fills,
});

describe('researchPeriods', () => {
  it('gives the whole span, then each calendar year, skipping a year with fewer than minDays days', () => {
    const { periods, skipped } = researchPeriods(Date.UTC(2021, 1, 8), Date.UTC(2023, 0, 7, 10));
    expect(periods.map((p) => p.label)).toEqual(['whole', '2021', '2022']);
    expect(periods[1]).toMatchObject({ from: Date.UTC(2021, 1, 8), to: Date.UTC(2022, 0, 1), whole: false });
    expect(periods[2]).toMatchObject({ from: Date.UTC(2022, 0, 1), to: Date.UTC(2023, 0, 1) });
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatch(/^2023: only 6\.4 days/);
  });

  it('keeps a short year when minDays allows it', () => {
    expect(researchPeriods(Date.UTC(2022, 11, 1), Date.UTC(2023, 0, 7), 5).periods.map((p) => p.label)).toEqual(['whole', '2022', '2023']);
  });
});

describe('researchRow', () => {
  it('computes return, drawdown, fees, trades, turnover and exposure of a segment', () => {
    const r = run([100, 110, 99, 121], [0, 50, 50, 0], [
      { time: T0 + H, notional: 50, fee: 0.13 },
      { time: T0 + 4 * H, notional: 60, fee: 0.16 },
    ]);
    const row = researchRow(r, { label: 'whole', from: T0, to: T0 + 4 * H, whole: true });
    expect(row.total_return).toBeCloseTo(0.21, 10);
    expect(row.start_equity_usd).toBe(100);
    expect(row.end_equity_usd).toBe(121);
    expect(row.max_drawdown).toBeCloseTo(0.1, 10); // 110 → 99
    expect(row.fees_usd).toBe(0.29);
    expect(row.trades).toBe(2);
    expect(row.exposure).toBeCloseTo((0 + 50 / 110 + 50 / 99 + 0) / 4, 6);
    const years = (3 * H) / (365 * 86_400_000); // first point to last
    expect(row.turnover_per_year).toBeCloseTo(110 / ((100 + 110 + 99 + 121) / 4) / years, 2);
    expect(row.cagr).toBeGreaterThan(0);
    expect(row.sharpe).toBeGreaterThan(0);
  });

  it('cuts a year as the equity curve segment: its base is the equity at the year start, and the segments chain to the whole', () => {
    // Points at 21:00, 22:00, 23:00 (2021) and 00:00 Jan 1 (the bar that closes the year), then 01:00, 02:00 (2022).
    const r = run([100, 90, 95, 120, 60, 66], undefined, [
      { time: T0 + H, notional: 10, fee: 1 },
      { time: T0 + 4 * H, notional: 10, fee: 2 }, // at the year's last instant: 2021
      { time: T0 + 5 * H, notional: 10, fee: 4 },
    ]);
    const { periods } = researchPeriods(T0, T0 + 6 * H, 0);
    expect(periods.map((p) => p.label)).toEqual(['whole', '2021', '2022']);
    const [whole, y21, y22] = periods.map((p) => researchRow(r, p));
    expect(y21!.end_equity_usd).toBe(120);
    expect(y21!.total_return).toBeCloseTo(0.2, 10);
    expect(y21!.fees_usd).toBe(3);
    expect(y22!.start_equity_usd).toBe(120);
    expect(y22!.start).toBe('2022-01-01T00:00:00.000Z');
    expect(y22!.total_return).toBeCloseTo(66 / 120 - 1, 10);
    expect(y22!.max_drawdown).toBeCloseTo(0.5, 10); // from the base 120 down to 60
    expect(y22!.fees_usd).toBe(4);
    expect(y22!.trades).toBe(1);
    expect((1 + y21!.total_return) * (1 + y22!.total_return)).toBeCloseTo(1 + whole!.total_return, 6);
    expect(y21!.trades + y22!.trades).toBe(whole!.trades);
  });

  it('orders rows by scope, period, then strategy (baseline, ml, buy-and-hold, cash)', () => {
    const a = { ...run([100, 101]), strategy: 'cash' as const };
    const b = { ...run([100, 102]), strategy: 'baseline' as const };
    const c = { ...run([100, 103]), scope: 'Y/USD', strategy: 'ml' as const };
    const rows = researchRows([a, b, c], () => [{ label: 'whole', from: T0, to: T0 + 2 * H, whole: true }]);
    expect(rows.map((x) => `${x.scope} ${x.strategy}`)).toEqual(['X/USD baseline', 'X/USD cash', 'Y/USD ml']);
  });
});

describe('runFromBacktest', () => {
  it('sums accounts per bar time and turns trades into notional and fees', () => {
    const r = runFromBacktest('all pairs', 'baseline', 200, {
      equity: [
        { ts: 2, equityUsd: 100, positionsUsd: 10 },
        { ts: 1, equityUsd: 100, positionsUsd: 0 },
        { ts: 1, equityUsd: 100, positionsUsd: 0 },
        { ts: 2, equityUsd: 110, positionsUsd: 20 },
      ],
      trades: [{ time: 2, qty: 0.5, price: 60, feeUsd: 0.08 }],
    });
    expect(r.points).toEqual([
      { ts: 1, equity: 200, positions: 0 },
      { ts: 2, equity: 210, positions: 30 },
    ]);
    expect(r.fills).toEqual([{ time: 2, notional: 30, fee: 0.08 }]);
  });
});

const candle = (pair: string, openTime: number, close: number): Candle => ({ pair, interval: 3600, openTime, open: close, high: close, low: close, close, volume: 1 });

describe('buy-and-hold and cash', () => {
  it('buys each pair once with a taker fee; a pair not listed yet waits in cash', () => {
    const candles = {
      'A/USD': [0, 1, 2, 3].map((i) => candle('A/USD', i * H, 10 * (i + 1))),
      'B/USD': [2, 3].map((i) => candle('B/USD', i * H, 5)),
    };
    const times = decisionTimes(candles, 0, 3 * H);
    expect(times).toEqual([H, 2 * H, 3 * H, 4 * H]);
    const r = buyAndHoldRun('all pairs', candles, times, 1000, () => 0.01);
    expect(r.fills).toEqual([
      { time: H, notional: 495, fee: 5 },
      { time: 3 * H, notional: 495, fee: 5 },
    ]);
    const qtyA = 495 / 10;
    expect(r.points[0]).toEqual({ ts: H, equity: 500 + qtyA * 10, positions: qtyA * 10 });
    expect(r.points[1]!.equity).toBeCloseTo(500 + qtyA * 20, 9); // B not listed: its half is cash
    expect(r.points[3]!.equity).toBeCloseTo(qtyA * 40 + 495, 9); // B bought at 5, still 5
    expect(cashRun('all pairs', times, 1000).points.every((p) => p.equity === 1000 && p.positions === 0)).toBe(true);
  });
});

describe('tables', () => {
  const rows = researchRows([run([100, 90, 120]), { ...run([100, 100, 100]), strategy: 'cash' }], () => [{ label: 'whole', from: T0, to: T0 + 3 * H, whole: true }]);

  it('aligns the terminal table with a header naming the turnover unit', () => {
    const lines = terminalTable(rows).trimEnd().split('\n');
    expect(lines[0]).toMatch(/scope +period +strategy .*turnover ×\/yr .*exposure$/);
    expect(lines).toHaveLength(4);
    expect(new Set(lines.slice(0, 1).concat(lines.slice(2)).map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toMatch(/X\/USD +whole +baseline .* 20\.00 %/);
  });

  it('writes a markdown table with one line per row and escapes pipes', () => {
    const md = markdownTable([{ ...rows[0]!, scope: 'a|b' }]);
    const lines = md.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^\|---\|---\|---\|---:/);
    expect(lines[2]).toContain('a\\|b');
    const doc = researchMarkdown({ rows, settings: [['fees', 'x']], strategies: [['cash', 'USD']], method: ['m'], notes: ['n'], charts: [['Equity', 'equity-all-pairs.svg']] });
    expect(doc).toContain('| fees | x |');
    expect(doc).toContain('![Equity](equity-all-pairs.svg)');
    expect(doc).toContain('## Notes');
  });
});
