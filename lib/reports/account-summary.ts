import { utcDayKey } from '../risk/drawdown.ts';

/**
 * An account at a glance — what the dashboard, `GET /summary` and `aether status` show — built from
 * what the cycles stored (lib/reports/summary-queries.ts reads it). Pure: the same facts and time
 * give the same summary. Money is USD; fractions are 0.01 = 1 %.
 */

export type AccountMode = 'simulation' | 'live';
export type TradingStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** What the database holds about one account, as summary-queries reads it. */
export interface AccountFacts {
  account: { id: string; slug: string; name: string; createdAt: number };
  simulation: { enabled: boolean; initialUsd: number };
  limits: { softDailyDrawdown: number; hardDailyDrawdown: number };
  tradingState: { state: TradingStateName; since: number; reason: string | null; dayKey: string; dayStartEquityUsd: number; drawdown: number } | null;
  equity: { ts: number; equityUsd: number; cashUsd: number; hedgeRatio: number; drawdownFromPeak: number } | null;
  /** Totals by asset: the simulator's state, or a live account's newest balance set; null when none is known yet. */
  balances: Record<string, number> | null;
  positions: Array<{ pair: string; qty: number; avgPrice: number; stopPrice: number | null; takeProfitPrice: number | null; openedAt: number | null }>;
  openOrders: Array<{ id: string; clientId: string; pair: string; side: 'buy' | 'sell'; type: string; intent: string; amount: number; price: number | null; status: string; decidedAt: number }>;
  hedge: { mode: 'auto' | 'manual'; target: number; actual: number | null; reason: string; updatedAt: number } | null;
  lastCycle: { barTime: number; outcome: 'done' | 'skipped' | 'halted' | 'failed'; finishedAt: number } | null;
}

/** The newest close of each USD pair (`BTC/USD` → price): the marks holdings and positions are valued at. */
export type Marks = Readonly<Record<string, number>>;

export interface AccountSummary {
  slug: string;
  name: string;
  mode: AccountMode;
  tradingState: { state: TradingStateName; reason: string | null; since: string };
  /** Marked to market at the last cycle; before the first cycle, the starting balance (a live account's opening balances at the latest marks). */
  equityUsd: number | null;
  cashUsd: number | null;
  /** When `equityUsd` was marked (the last cycle's decision time), null before the first cycle. */
  equityAt: string | null;
  startingBalanceUsd: number | null;
  holdings: Array<{ asset: string; amount: number; priceUsd: number | null; valueUsd: number | null }>;
  positions: Array<{ pair: string; qty: number; avgPrice: number; markPrice: number | null; valueUsd: number | null; unrealizedPnlUsd: number | null; stopPrice: number | null; takeProfitPrice: number | null; openedAt: string | null }>;
  openOrders: Array<{ id: string; clientId: string; pair: string; side: 'buy' | 'sell'; type: string; intent: string; amount: number; price: number | null; status: string; decidedAt: string }>;
  today: { pnlUsd: number | null; pnlPct: number | null; dayStartEquityUsd: number | null };
  drawdown: { daily: number; softLimit: number; hardLimit: number; fromPeak: number | null };
  hedge: { mode: 'auto' | 'manual' | null; target: number | null; actual: number | null; reason: string | null };
  lastCycle: { barTime: string; outcome: 'done' | 'skipped' | 'halted' | 'failed'; finishedAt: string } | null;
  nextCycleAt: string;
}

/** Totals of the accounts of one mode: simulated and live money are never added together. */
export interface ModeTotals {
  accounts: number;
  equityUsd: number;
  cashUsd: number;
  todayPnlUsd: number;
  todayPnlPct: number | null;
  /** Accounts whose equity is not known yet (a live account before its first reconciliation): left out of the sums. */
  unvalued: number;
}

export interface Summary {
  at: string;
  accounts: AccountSummary[];
  totals: Record<AccountMode, ModeTotals>;
}

const iso = (t: number): string => new Date(t).toISOString();
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const usd = (x: number): number => round(x, 2);

/** An asset's USD price: 1 for USD itself, else its USD pair's mark. */
const priceOf = (asset: string, marks: Marks): number | null => (asset === 'USD' ? 1 : (marks[`${asset}/USD`] ?? null));

export function summarizeAccount(f: AccountFacts, marks: Marks, now: number, nextCycleAt: number): AccountSummary {
  const mode: AccountMode = f.simulation.enabled ? 'simulation' : 'live';
  // A simulation that has not traded holds its starting balance; a live account what Kraken last said.
  const balances = f.balances ?? (mode === 'simulation' ? { USD: f.simulation.initialUsd } : {});
  const holdings = Object.entries(balances)
    .filter(([, amount]) => amount !== 0)
    .map(([asset, amount]) => {
      const price = priceOf(asset, marks);
      return { asset, amount, priceUsd: price, valueUsd: price === null ? null : usd(amount * price) };
    })
    .sort((a, b) => (b.valueUsd ?? 0) - (a.valueUsd ?? 0) || a.asset.localeCompare(b.asset));
  const valued = f.balances !== null || mode === 'simulation' ? holdings.every((h) => h.valueUsd !== null) : false;
  const equityUsd = f.equity ? f.equity.equityUsd : valued ? holdings.reduce((s, h) => s + h.valueUsd!, 0) : null;
  const cashUsd = f.equity ? f.equity.cashUsd : valued ? (balances.USD ?? 0) : null;

  const today = utcDayKey(now);
  const ts = f.tradingState?.dayKey === today ? f.tradingState : null;
  const dayStart = ts?.dayStartEquityUsd ?? null;
  const pnlUsd = dayStart !== null && equityUsd !== null ? equityUsd - dayStart : null;

  return {
    slug: f.account.slug,
    name: f.account.name,
    mode,
    tradingState: f.tradingState
      ? { state: f.tradingState.state, reason: f.tradingState.reason, since: iso(f.tradingState.since) }
      : { state: 'ACTIVE', reason: 'no cycle has run yet', since: iso(f.account.createdAt) },
    equityUsd: equityUsd === null ? null : usd(equityUsd),
    cashUsd: cashUsd === null ? null : usd(cashUsd),
    equityAt: f.equity ? iso(f.equity.ts) : null,
    startingBalanceUsd: mode === 'simulation' ? f.simulation.initialUsd : null,
    holdings,
    positions: f.positions
      .filter((p) => p.qty > 0)
      .map((p) => {
        const mark = marks[p.pair] ?? null;
        return {
          pair: p.pair,
          qty: p.qty,
          avgPrice: p.avgPrice,
          markPrice: mark,
          valueUsd: mark === null ? null : usd(p.qty * mark),
          unrealizedPnlUsd: mark === null || !(p.avgPrice > 0) ? null : usd((mark - p.avgPrice) * p.qty),
          stopPrice: p.stopPrice,
          takeProfitPrice: p.takeProfitPrice,
          openedAt: p.openedAt === null ? null : iso(p.openedAt),
        };
      }),
    openOrders: f.openOrders.map((o) => ({ ...o, decidedAt: iso(o.decidedAt) })),
    today: { pnlUsd: pnlUsd === null ? null : usd(pnlUsd), pnlPct: pnlUsd === null || !(dayStart! > 0) ? null : round(pnlUsd / dayStart!, 6), dayStartEquityUsd: dayStart === null ? null : usd(dayStart) },
    drawdown: { daily: ts?.drawdown ?? 0, softLimit: f.limits.softDailyDrawdown, hardLimit: f.limits.hardDailyDrawdown, fromPeak: f.equity?.drawdownFromPeak ?? null },
    hedge: f.hedge
      ? { mode: f.hedge.mode, target: f.hedge.target, actual: f.hedge.actual, reason: f.hedge.reason }
      : { mode: null, target: null, actual: equityUsd ? round((cashUsd ?? 0) / equityUsd, 6) : null, reason: null },
    lastCycle: f.lastCycle ? { barTime: iso(f.lastCycle.barTime), outcome: f.lastCycle.outcome, finishedAt: iso(f.lastCycle.finishedAt) } : null,
    nextCycleAt: iso(nextCycleAt),
  };
}

/** Totals per mode, never across modes. */
export function totalsByMode(accounts: readonly AccountSummary[]): Record<AccountMode, ModeTotals> {
  const totals = (mode: AccountMode): ModeTotals => {
    const mine = accounts.filter((a) => a.mode === mode);
    const valued = mine.filter((a) => a.equityUsd !== null);
    const withToday = valued.filter((a) => a.today.pnlUsd !== null && a.today.dayStartEquityUsd !== null);
    const pnl = withToday.reduce((s, a) => s + a.today.pnlUsd!, 0);
    const start = withToday.reduce((s, a) => s + a.today.dayStartEquityUsd!, 0);
    return {
      accounts: mine.length,
      equityUsd: usd(valued.reduce((s, a) => s + a.equityUsd!, 0)),
      cashUsd: usd(valued.reduce((s, a) => s + (a.cashUsd ?? 0), 0)),
      todayPnlUsd: usd(pnl),
      todayPnlPct: start > 0 ? round(pnl / start, 6) : null,
      unvalued: mine.length - valued.length,
    };
  };
  return { simulation: totals('simulation'), live: totals('live') };
}
