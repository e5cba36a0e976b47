import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { cagr, maxDrawdown, sharpe, simpleReturns, sortino, periodsPerYear } from '../reports/metrics.ts';
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
  buy_and_hold: PerformanceFigures;
  accounts: Record<string, { initial_equity_usd: number; final_equity_usd: number; total_return: number; max_drawdown: number; trades: number; fees_usd: number }>;
}

const round = (x: number, d = 6): number => Number(x.toFixed(d));

export function buildReport(
  input: Pick<BacktestInput, 'markets'>,
  pairs: string[],
  accounts: readonly BacktestAccount[],
  trades: TradeRow[],
  equity: EquityRow[],
  history: Record<string, Candle[]>,
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
    };
  }
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
    buy_and_hold: buyAndHold(pairs, history, points.map((p) => p.ts), initial, input.markets),
    accounts: perAccount,
  };
}

/** Equal weights in every pair at the first decision's closes, one taker fee, held to the end. */
function buyAndHold(pairs: string[], history: Record<string, Candle[]>, ts: number[], initial: number, markets: readonly MarketSpec[]): PerformanceFigures {
  if (!ts.length) return { total_return: 0, max_drawdown: 0, sharpe: 0 };
  const closeAt = (p: string, t: number): number | undefined => {
    const cs = history[p]!;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cs[mid]!.openTime + cs[mid]!.interval * 1000 <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? cs[lo - 1]!.close : undefined;
  };
  const qty: Record<string, number> = {};
  for (const p of pairs) {
    const px = closeAt(p, ts[0]!);
    const fee = markets.find((m) => m.symbol === p)?.takerFee ?? 0;
    qty[p] = px ? ((initial / pairs.length) * (1 - fee)) / px : 0;
  }
  const series = ts.map((t) => pairs.reduce((s, p) => s + qty[p]! * (closeAt(p, t) ?? 0), 0));
  const rets = simpleReturns([initial, ...series]);
  return {
    total_return: round(series[series.length - 1]! / initial - 1),
    max_drawdown: round(maxDrawdown([initial, ...series])),
    sharpe: round(sharpe(rets, periodsPerYear(ts.map((t) => ({ ts: t }))))),
  };
}
