import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { cagr, maxDrawdown, sharpe, simpleReturns, sortino, periodsPerYear } from '../reports/metrics.ts';
import { TRADE_CAUSES, type TradeCause } from '../strategy/trade-cause.ts';
import type { AppliedAdaptation } from './backtest-adaptation.ts';
import type { BacktestAccount, BacktestInput, EquityRow, TradeRow } from './backtest.ts';

/** report.json of a backtest: the performance of the accounts' equity curve and of buy-and-hold over the same times. */
export interface PerformanceFigures {
  total_return: number;
  max_drawdown: number;
  sharpe: number;
}

export interface BacktestReport extends PerformanceFigures {
  start: string;
  end: string;
  pairs: string[];
  initial_equity_usd: number;
  final_equity_usd: number;
  cagr: number;
  sortino: number;
  fees_usd: number;
  trades: number;
  win_rate: number;
  exposure: number;
  turnover: number;
  /** Fills by what they were (stop, take-profit, signal, halt, hedge, entry). */
  trades_by_cause: Record<TradeCause, number>;
  /** The fee schedule the simulation charged (fractions): one rate for every pair, else per pair. */
  fees: { maker: number | null; taker: number | null; source: string; by_pair?: Record<string, { maker: number; taker: number }> };
  /** The nightly threshold adaptation: live's schedule (UTC cron), or null when the settings stayed fixed. */
  adaptation: { schedule: string | null; changes: number };
  buy_and_hold: PerformanceFigures;
  accounts: Record<
    string,
    { initial_equity_usd: number; final_equity_usd: number; total_return: number; max_drawdown: number; trades: number; fees_usd: number; adaptations: ReportedAdaptation[] }
  >;
}

export interface ReportedAdaptation extends Omit<AppliedAdaptation, 'at'> {
  at: string;
}

const round = (x: number, d = 6): number => Number(x.toFixed(d));

export function buildReport(
  input: Pick<BacktestInput, 'markets' | 'feeSource' | 'adaptation'>,
  pairs: string[],
  accounts: readonly BacktestAccount[],
  trades: TradeRow[],
  equity: EquityRow[],
  history: Record<string, Candle[]>,
  adaptations: Readonly<Record<string, readonly AppliedAdaptation[]>> = {},
): BacktestReport {
  const byTime = new Map<number, { equity: number; positions: number }>();
  for (const e of equity) {
    const v = byTime.get(e.ts) ?? { equity: 0, positions: 0 };
    v.equity += e.equityUsd;
    v.positions += e.positionsUsd;
    byTime.set(e.ts, v);
  }
  const points = [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([ts, v]) => ({ ts, ...v }));
  const eq = points.map((p) => p.equity);
  const initial = accounts.reduce((s, a) => s + a.initialUsd, 0);
  const final = eq[eq.length - 1] ?? initial;
  const ppy = periodsPerYear(points);
  const rets = simpleReturns([initial, ...eq]);
  const start = points[0]?.ts ?? 0;
  const end = points[points.length - 1]?.ts ?? 0;
  const years = (end - start) / (365 * 86_400_000);
  const closing = trades.filter((t) => t.side === 'sell');
  const notional = trades.reduce((s, t) => s + t.qty * t.price, 0);
  const avgEquity = eq.length ? eq.reduce((a, b) => a + b, 0) / eq.length : initial;
  const perAccount: BacktestReport['accounts'] = {};
  for (const a of accounts) {
    const series = equity.filter((e) => e.account === a.id).map((e) => e.equityUsd);
    const mine = trades.filter((t) => t.account === a.id);
    const last = series[series.length - 1] ?? a.initialUsd;
    perAccount[a.id] = {
      initial_equity_usd: a.initialUsd,
      final_equity_usd: round(last, 2),
      total_return: round(last / a.initialUsd - 1),
      max_drawdown: round(maxDrawdown([a.initialUsd, ...series])),
      trades: mine.length,
      fees_usd: round(mine.reduce((s, t) => s + t.feeUsd, 0), 2),
      adaptations: (adaptations[a.id] ?? []).map((x) => ({ ...x, at: new Date(x.at).toISOString() })),
    };
  }
  const byCause = Object.fromEntries(TRADE_CAUSES.map((c) => [c, 0])) as Record<TradeCause, number>;
  for (const t of trades) byCause[t.cause]++;
  return {
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    pairs,
    initial_equity_usd: initial,
    final_equity_usd: round(final, 2),
    total_return: round(final / initial - 1),
    cagr: round(cagr(initial, final, years)),
    sharpe: round(sharpe(rets, ppy)),
    sortino: round(sortino(rets, ppy)),
    max_drawdown: round(maxDrawdown([initial, ...eq])),
    fees_usd: round(trades.reduce((s, t) => s + t.feeUsd, 0), 2),
    trades: trades.length,
    win_rate: round(closing.length ? closing.filter((t) => t.realizedPnlUsd > 0).length / closing.length : 0),
    exposure: round(points.length ? points.reduce((s, p) => s + (p.equity > 0 ? p.positions / p.equity : 0), 0) / points.length : 0),
    turnover: round(avgEquity > 0 ? notional / avgEquity : 0),
    trades_by_cause: byCause,
    fees: feeSchedule(pairs, input.markets, input.feeSource ?? 'kraken-base-tier'),
    adaptation: { schedule: input.adaptation?.cron ?? null, changes: Object.values(adaptations).reduce((n, a) => n + a.length, 0) },
    buy_and_hold: buyAndHold(pairs, history, points.map((p) => p.ts), initial, input.markets),
    accounts: perAccount,
  };
}

/** The fee rates the markets of the backtest's pairs carry (the simulation charges these). */
function feeSchedule(pairs: string[], markets: readonly MarketSpec[], source: string): BacktestReport['fees'] {
  const byPair: Record<string, { maker: number; taker: number }> = {};
  for (const p of pairs) {
    const m = markets.find((x) => x.symbol === p);
    if (m) byPair[p] = { maker: m.makerFee, taker: m.takerFee };
  }
  const rates = Object.values(byPair);
  const same = rates.every((r) => r.maker === rates[0]?.maker && r.taker === rates[0]?.taker);
  return same ? { maker: rates[0]?.maker ?? null, taker: rates[0]?.taker ?? null, source } : { maker: null, taker: null, source, by_pair: byPair };
}

/**
 * Equal weights in every pair, held to the end: a pair trading at the first decision is bought at
 * that decision's close; a pair not listed yet (no candle closed by then: SOL/USD from 2021-06-17 in
 * a backtest from January) keeps its share in cash until its listing bar closes, and is bought at
 * that close. Each purchase pays one taker fee.
 */
export function buyAndHold(pairs: string[], history: Record<string, readonly Candle[]>, ts: number[], initial: number, markets: readonly MarketSpec[]): PerformanceFigures {
  if (!ts.length) return { total_return: 0, max_drawdown: 0, sharpe: 0 };
  const series = buyAndHoldCurve(pairs, history, ts, initial, markets);
  const rets = simpleReturns([initial, ...series]);
  return {
    total_return: round(series[series.length - 1]! / initial - 1),
    max_drawdown: round(maxDrawdown([initial, ...series])),
    sharpe: round(sharpe(rets, periodsPerYear(ts.map((t) => ({ ts: t }))))),
  };
}

/** Buy-and-hold's equity at each of `ts` (see buyAndHold), e.g. for report.html's chart. */
export function buyAndHoldCurve(pairs: string[], history: Record<string, readonly Candle[]>, ts: readonly number[], initial: number, markets: readonly MarketSpec[]): number[] {
  const closeAt = (p: string, t: number): number | undefined => {
    const cs = history[p] ?? [];
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cs[mid]!.openTime + cs[mid]!.interval * 1000 <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? cs[lo - 1]!.close : undefined;
  };
  const share = initial / pairs.length;
  const qty: Record<string, number | null> = Object.fromEntries(pairs.map((p) => [p, null])); // null: still cash
  return ts.map((t) => {
    let value = 0;
    for (const p of pairs) {
      const px = closeAt(p, t);
      if (qty[p] === null && px !== undefined && px > 0) qty[p] = (share * (1 - (markets.find((m) => m.symbol === p)?.takerFee ?? 0))) / px;
      value += qty[p] === null ? share : qty[p]! * px!;
    }
    return value;
  });
}
