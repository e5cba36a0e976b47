/**
 * The research table (pure): equity curves and fills of each strategy run → one row of figures per
 * strategy, scope and period. A period is a segment of one whole-span run's equity curve: a calendar
 * year's row is that year's part of the curve (from the equity at the year's first instant to the
 * equity at its last), not a separate backtest started cold on 1 January — so every year carries the
 * positions and the model state the run had when it began, as a live account would.
 */
import { cagr, maxDrawdown, periodsPerYear, sharpe, simpleReturns, sortino } from './metrics.ts';

export const STRATEGIES = ['baseline', 'ml', 'buy-and-hold', 'cash'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** One instant of a run: total equity and the USD value of its holdings (snapshot after the bar's decisions). */
export interface RunPoint {
  ts: number;
  equity: number;
  positions: number;
}

/** One execution: its time, traded notional (USD, before fees) and fee (USD); a backtest's fills also say what was traded (for report.html's trades on price). */
export interface RunFill {
  time: number;
  notional: number;
  fee: number;
  order?: { pair: string; side: 'buy' | 'sell'; qty: number; price: number; reason: string };
}

/** One strategy over one scope's whole span. `points` ascending by ts. */
export interface StrategyRun {
  scope: string; // "all pairs" or a pair
  strategy: Strategy;
  initialUsd: number;
  points: RunPoint[];
  fills: RunFill[];
}

/** A period of the table: (from, to] in epoch ms; `whole` is the run's whole span. */
export interface Period {
  label: string;
  from: number;
  to: number;
  whole: boolean;
}

export interface ResearchRow {
  scope: string;
  period: string;
  strategy: Strategy;
  start: string; // ISO time of the segment's base equity
  end: string; // ISO time of its last point
  days: number;
  start_equity_usd: number;
  end_equity_usd: number;
  total_return: number;
  cagr: number;
  sharpe: number;
  sortino: number;
  max_drawdown: number;
  /** Traded notional (buys and sells, USD) over the segment's average equity, per year. */
  turnover_per_year: number;
  fees_usd: number;
  trades: number;
  /** Average of holdings / equity over the segment's points. */
  exposure: number;
}

const YEAR_MS = 365 * 86_400_000;
const round = (x: number, d = 6): number => Number(x.toFixed(d));
const iso = (t: number): string => new Date(t).toISOString();

/**
 * The periods of a table whose runs span (start, end]: the whole span, then every calendar year (UTC)
 * it touches. A year of which the span covers fewer than `minDays` days is skipped, with a note:
 * its figures would be noise (a week's "CAGR") rather than a result.
 */
export function researchPeriods(start: number, end: number, minDays = 30): { periods: Period[]; skipped: string[] } {
  const periods: Period[] = [{ label: 'whole', from: start, to: end, whole: true }];
  const skipped: string[] = [];
  if (!(end > start)) return { periods, skipped };
  for (let y = new Date(start).getUTCFullYear(); y <= new Date(end).getUTCFullYear(); y++) {
    const from = Math.max(start, Date.UTC(y, 0, 1));
    const to = Math.min(end, Date.UTC(y + 1, 0, 1));
    if (to <= from) continue;
    const days = (to - from) / 86_400_000;
    if (days < minDays) skipped.push(`${y}: only ${days.toFixed(1)} days of the span fall in it (fewer than ${minDays}) — skipped`);
    else periods.push({ label: String(y), from, to, whole: false });
  }
  return { periods, skipped };
}

/**
 * The row of `run` over `period`. The segment's base is the equity at the period's start: the last
 * point at or before `from`, or — for the run's first segment — the initial equity at the first point's
 * time, as the backtest report does (so the whole-span row reproduces report.json's figures).
 * Points and fills belong to the segment when from < ts ≤ to (a bar's snapshot is stamped at its close).
 */
export function researchRow(run: StrategyRun, period: Period): ResearchRow {
  const pts = run.points;
  let i = 0;
  while (i < pts.length && pts[i]!.ts <= period.from) i++;
  let j = i;
  while (j < pts.length && pts[j]!.ts <= period.to) j++;
  const seg = pts.slice(i, j);
  const before = i > 0 ? pts[i - 1]! : null;
  const base = before ? { ts: before.ts, equity: before.equity } : { ts: seg[0]?.ts ?? period.from, equity: run.initialUsd };
  // The run's first segment also holds its first point (the report counts it too).
  const firstSegment = !before;
  const eq = seg.map((p) => p.equity);
  const last = seg[seg.length - 1];
  const endEquity = last?.equity ?? base.equity;
  const endTs = last?.ts ?? base.ts;
  const years = (endTs - base.ts) / YEAR_MS;
  const rets = simpleReturns([base.equity, ...eq]);
  const fills = run.fills.filter((f) => (firstSegment ? f.time <= period.to : f.time > period.from && f.time <= period.to));
  const notional = fills.reduce((s, f) => s + f.notional, 0);
  const avgEquity = eq.length ? eq.reduce((a, b) => a + b, 0) / eq.length : base.equity;
  const exposure = seg.length ? seg.reduce((s, p) => s + (p.equity > 0 ? p.positions / p.equity : 0), 0) / seg.length : 0;
  return {
    scope: run.scope,
    period: period.label,
    strategy: run.strategy,
    start: iso(base.ts),
    end: iso(endTs),
    days: round(years * 365, 2),
    start_equity_usd: round(base.equity, 2),
    end_equity_usd: round(endEquity, 2),
    total_return: round(base.equity > 0 ? endEquity / base.equity - 1 : 0),
    cagr: round(cagr(base.equity, endEquity, years)),
    sharpe: round(sharpe(rets, periodsPerYear(seg))),
    sortino: round(sortino(rets, periodsPerYear(seg))),
    max_drawdown: round(maxDrawdown([base.equity, ...eq])),
    turnover_per_year: round(avgEquity > 0 && years > 0 ? notional / avgEquity / years : 0),
    fees_usd: round(fills.reduce((s, f) => s + f.fee, 0), 2),
    trades: fills.length,
    exposure: round(exposure),
  };
}

/** Every run × every period, in the order scopes, periods, strategies were given. */
export function researchRows(runs: readonly StrategyRun[], periodsOf: (scope: string) => readonly Period[]): ResearchRow[] {
  const scopes = [...new Set(runs.map((r) => r.scope))];
  const rows: ResearchRow[] = [];
  for (const scope of scopes) {
    const mine = runs.filter((r) => r.scope === scope).sort((a, b) => STRATEGIES.indexOf(a.strategy) - STRATEGIES.indexOf(b.strategy));
    for (const period of periodsOf(scope)) for (const run of mine) rows.push(researchRow(run, period));
  }
  return rows;
}

/** A backtest's equity rows (one per account and bar) and fills as a run: accounts summed per bar time. */
export function runFromBacktest(
  scope: string,
  strategy: Strategy,
  initialUsd: number,
  result: { equity: readonly { ts: number; equityUsd: number; positionsUsd: number }[]; trades: readonly { time: number; pair?: string; side?: 'buy' | 'sell'; qty: number; price: number; feeUsd: number; reason?: string }[] },
): StrategyRun {
  const byTs = new Map<number, RunPoint>();
  for (const e of result.equity) {
    const p = byTs.get(e.ts);
    if (p) {
      p.equity += e.equityUsd;
      p.positions += e.positionsUsd;
    } else byTs.set(e.ts, { ts: e.ts, equity: e.equityUsd, positions: e.positionsUsd });
  }
  return {
    scope,
    strategy,
    initialUsd,
    points: [...byTs.values()].sort((a, b) => a.ts - b.ts),
    fills: result.trades.map((t) => ({
      time: t.time,
      notional: t.qty * t.price,
      fee: t.feeUsd,
      ...(t.pair && t.side ? { order: { pair: t.pair, side: t.side, qty: t.qty, price: t.price, reason: t.reason ?? '' } } : {}),
    })),
  };
}
