import { VirtualClock } from '../clock.ts';
import { SimEngine } from '../exchange/sim-engine.ts';
import type { SimFill, SlippageConfig } from '../exchange/sim-types.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import type { Signal } from '../strategy/signal.ts';
import { tradeCause, type TradeCause } from '../strategy/trade-cause.ts';
import { AccountAdapter, type AppliedAdaptation, type BacktestAdaptation } from './backtest-adaptation.ts';
import { emptyBook, type AccountBook } from './book.ts';
import { runAccountCycle } from './account-cycle.ts';
import type { EquitySnapshot } from './hedge-phase.ts';
import { marketView } from './market-view.ts';
import type { SignalProvider } from './signals.ts';
import type { AccountSettingsSet, Journal, MarketView } from './types.ts';
import { cachedVenue, type CachedVenue } from './cached-venue.ts';
import { engineVenue } from './venue.ts';
import { buildReport, type BacktestReport } from './backtest-report.ts';
export type { BacktestReport, PerformanceFigures } from './backtest-report.ts';

export interface BacktestAccount {
  id: string;
  initialUsd: number;
  settings: AccountSettingsSet;
}

export interface BacktestInput {
  candles: Readonly<Record<string, readonly Candle[]>>; // ascending, per pair
  markets: readonly MarketSpec[];
  accounts: readonly BacktestAccount[];
  signals: SignalProvider;
  from?: number;
  to?: number;
  slippage?: Partial<SlippageConfig>;
  /** The nightly threshold adaptation, on live's schedule (lib/cycle/backtest-adaptation.ts); absent or null: settings stay fixed. */
  adaptation?: BacktestAdaptation | null;
  /** Where the markets' fee rates came from, for report.json (default: the Kraken base tier the specs carry). */
  feeSource?: string;
  /** Called once per decision time, before the accounts act (progress, retraining). */
  onStep?: (now: number, index: number, total: number) => void;
}

export interface TradeRow {
  time: number;
  account: string;
  pair: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  feeUsd: number;
  realizedPnlUsd: number;
  clientId: string;
  /** What the trade was (lib/strategy/trade-cause.ts): entry, stop, take-profit, signal, hedge, halt. */
  cause: TradeCause;
  reason: string;
  /** The engine's order id: fills of one order are one trade to the adaptation. */
  orderId: string;
}

export interface EquityRow extends EquitySnapshot {
  account: string;
}

export interface BacktestResult {
  trades: TradeRow[];
  equity: EquityRow[];
  report: BacktestReport;
  steps: number; // candles of one pair through strategy, risk and SimBroker
  /** The adaptation's changes per account, in time order (empty without adaptation). */
  adaptations: Record<string, AppliedAdaptation[]>;
}

interface Runner {
  account: BacktestAccount;
  settings: AccountSettingsSet; // the account's, as the adaptation left them
  adapter: AccountAdapter | null;
  engine: SimEngine;
  book: AccountBook;
  sent: Map<string, Sent>; // client id → why it was sent
  venue: CachedVenue;
  journal: Journal;
  lastFillTime: number; // newest fill time booked, and how many fills at that time were
  seenAtLastTime: number;
}

/**
 * The backtest: the live cycle's code (signals, strategy, risk, hedge, SimBroker matching) on a
 * virtual clock over recorded candles. At each bar time every pair's bar is matched first, then
 * each account runs its cycle (protection check, order phase, hedge phase, protection check) at the
 * bar's close — as the live order job does.
 */
export async function runBacktest(input: BacktestInput): Promise<BacktestResult> {
  const pairs = Object.keys(input.candles).sort();
  const from = input.from ?? -Infinity;
  const to = input.to ?? Infinity;
  // Warm-up bars older than anything read at every step (the provider's lookback, the market view's
  // windows) are read at most a few times: they stay as given, only the rest is copied (see uniformCandle).
  const reach = Math.max(input.signals.lookback, 168, ...input.accounts.map((a) => a.settings.risk.correlationWindow)) + 1;
  const candles: Record<string, Candle[]> = Object.fromEntries(
    pairs.map((p) => {
      const cs = input.candles[p]!;
      let first = 0;
      while (first < cs.length && cs[first]!.openTime < from) first++;
      const copyFrom = Number.isFinite(reach) ? Math.max(0, first - 2 * reach) : 0;
      return [p, cs.map((c, i) => (i >= copyFrom ? uniformCandle(c) : c))];
    }),
  );
  const markets = Object.fromEntries(input.markets.map((m) => [m.symbol, m]));
  for (const p of pairs) if (!markets[p]) throw new Error(`${p} is not a Kraken USD spot market`);
  const clock = new VirtualClock(0);

  const times = barTimes(pairs.map((p) => candles[p]!), from, to);
  const history: Record<string, Candle[]> = Object.fromEntries(pairs.map((p) => [p, []]));
  const cursor: Record<string, number> = Object.fromEntries(pairs.map((p) => [p, 0]));
  // History before `from` warms the indicators up without trading.
  for (const p of pairs) {
    const cs = candles[p]!;
    while (cursor[p]! < cs.length && cs[cursor[p]!]!.openTime < (times[0] ?? Infinity)) history[p]!.push(cs[cursor[p]!++]!);
  }

  const runners: Runner[] = input.accounts.map((account) => {
    const engine = SimEngine.create({ balances: { USD: account.initialUsd } }, { markets: input.markets, slippage: input.slippage });
    const sent = new Map<string, Sent>();
    const adapter = input.adaptation ? new AccountAdapter(account.id, input.adaptation) : null;
    return { account, settings: account.settings, adapter, engine, book: emptyBook(), sent, venue: cachedVenue(engineVenue(engine, clock)), journal: backtestJournal(sent), lastFillTime: Number.NEGATIVE_INFINITY, seenAtLastTime: 0 };
  });
  const trades: TradeRow[] = [];
  const equity: EquityRow[] = [];
  const signals: Record<string, Signal | null> = {};
  let steps = 0;
  let prevNow = Number.NaN; // the previous decision time (none before the first)

  for (let ti = 0; ti < times.length; ti++) {
    const t = times[ti]!;
    let now = 0;
    for (const p of pairs) {
      const cs = candles[p]!;
      const c = cs[cursor[p]!];
      if (!c || c.openTime !== t) continue;
      cursor[p]!++;
      history[p]!.push(c);
      for (const r of runners) r.engine.processBar(c);
      steps++;
      now = Math.max(now, c.openTime + c.interval * 1000);
    }
    clock.set(now);
    for (const p of pairs) if (history[p]!.length && history[p]![history[p]!.length - 1]!.openTime === t) signals[p] = input.signals.signal(history[p]!, now, history);
    input.onStep?.(now, ti, times.length);
    // The nightly adaptation fired since the previous decision: later decisions trade with its settings.
    for (const r of runners) if (r.adapter) r.settings = r.adapter.step(prevNow, now, r.settings, trades);
    prevNow = now;

    // The view depends on the bar and three risk settings only: accounts sharing them share it (read-only).
    const views = new Map<string, MarketView>();
    for (const r of runners) {
      const { venue, journal } = r;
      const risk = r.settings.risk;
      const viewKey = `${risk.correlationWindow} ${risk.correlationThreshold} ${risk.defaultSlippage}`;
      let view = views.get(viewKey);
      if (!view) views.set(viewKey, (view = marketView(history, signals, markets, now, risk)));
      venue.refresh(); // the bars just matched moved the engine on
      const c = await runAccountCycle({ accountId: r.account.id, settings: r.settings, market: view, venue, book: r.book, journal });
      r.book = c.book;
      const e = c.hedge.snapshot; // written out (a spread per bar shows): EquityRow is the account and the snapshot's fields, in its order
      equity.push({ account: r.account.id, ts: e.ts, equityUsd: e.equityUsd, cashUsd: e.cashUsd, positionsUsd: e.positionsUsd, hedgeRatio: e.hedgeRatio, drawdown: e.drawdown });
      // Only the fills at or after the newest one already booked (not a copy of all of them per bar).
      const fresh = r.engine.fills(r.lastFillTime);
      for (let k = r.seenAtLastTime; k < fresh.length; k++) {
        const f = fresh[k]!;
        trades.push(tradeRow(r, f));
        if (f.time > r.lastFillTime) [r.lastFillTime, r.seenAtLastTime] = [f.time, 0];
        if (f.time === r.lastFillTime) r.seenAtLastTime++;
      }
    }
  }
  const adaptations = Object.fromEntries(runners.map((r) => [r.account.id, r.adapter?.applied ?? []]));
  return { trades, equity, steps, adaptations, report: buildReport(input, pairs, runners.map((r) => r.account), trades, equity, history, adaptations) };
}

/**
 * Every pair's open times in [from, to], each once, ascending: a merge of the series when each is
 * strictly ascending (as given), else the general sort.
 */
function barTimes(series: readonly (readonly Candle[])[], from: number, to: number): number[] {
  const ascending = series.every((cs) => {
    for (let i = 1; i < cs.length; i++) if (!(cs[i]!.openTime > cs[i - 1]!.openTime)) return false;
    return true;
  });
  if (!ascending) return [...new Set(series.flatMap((cs) => cs.filter((c) => c.openTime >= from && c.openTime <= to).map((c) => c.openTime)))].sort((a, b) => a - b);
  const idx = series.map((cs) => {
    let i = 0;
    while (i < cs.length && !(cs[i]!.openTime >= from)) i++;
    return i;
  });
  const out: number[] = [];
  for (;;) {
    let t = Infinity;
    for (let s = 0; s < series.length; s++) {
      const c = series[s]![idx[s]!];
      if (c && c.openTime <= to && c.openTime < t) t = c.openTime;
    }
    if (t === Infinity) return out;
    out.push(t);
    for (let s = 0; s < series.length; s++) if (series[s]![idx[s]!]?.openTime === t) idx[s]!++;
  }
}

/**
 * The same values in objects of one hidden class whose price fields are doubles from the start. A
 * CSV mixes integral prices (small integers to V8) with fractional ones, which leaves candles of
 * several shapes and makes every indicator's property reads polymorphic — about 4× slower signals.
 */
const uniformCandle = (c: Candle): Candle => ({ pair: c.pair, interval: c.interval, openTime: c.openTime, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume });
uniformCandle({ pair: '', interval: 0.5, openTime: 0.5, open: 0.5, high: 0.5, low: 0.5, close: 0.5, volume: 0.5 });

interface Sent {
  reason: string;
  cause: TradeCause;
}

function backtestJournal(sent: Map<string, Sent>): Journal {
  return {
    beforeSubmit: () => 'send',
    afterSubmit: (intent, order) => void sent.set(order.clientId, { reason: `${intent.kind}: ${intent.reason}`, cause: tradeCause(intent.cause) }),
    refused: () => undefined,
    amended: () => undefined,
    cancelled: () => undefined,
  };
}

/** A fill as trades.csv has it. A fill without a client id is the stop the engine attached to an entry (as on Kraken): a stop. */
function tradeRow(r: Runner, f: SimFill): TradeRow {
  const sent = f.clientId ? r.sent.get(f.clientId) : undefined;
  return {
    time: f.time,
    account: r.account.id,
    pair: f.pair,
    side: f.side,
    qty: f.amount,
    price: f.price,
    feeUsd: f.fee,
    realizedPnlUsd: f.realizedPnl,
    clientId: f.clientId ?? '',
    cause: sent?.cause ?? 'stop',
    reason: sent?.reason ?? 'protective order (attached stop)',
    orderId: f.orderId,
  };
}
