import { runBacktest, type BacktestAccount } from '../cycle/backtest.ts';
import type { SignalProvider } from '../cycle/signals.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';

/**
 * The promotion's trading check: the live cycle's own backtest (strategy, risk engine, stops,
 * SimBroker with Kraken's fees) over the evaluation window, once per signal provider, on the same
 * candles and account settings. Candles before `from` only warm the providers up.
 */
export interface SimulationInput {
  candles: Readonly<Record<string, readonly Candle[]>>;
  markets: readonly MarketSpec[];
  accounts: readonly BacktestAccount[];
  /** First decision time simulated (a bar's close). */
  from: number;
  providers: Readonly<Record<string, SignalProvider>>;
}

export interface SimulatedRun {
  totalReturn: number;
  buyHold: number;
  trades: number;
  window: { from: number; to: number };
}

export async function simulateProviders(input: SimulationInput): Promise<Record<string, SimulatedRun>> {
  const first = Object.values(input.candles).find((cs) => cs.length)?.[0];
  if (!first) throw new Error('simulation: no candles');
  // runBacktest's `from` is on open times; a bar's decision is taken at its close.
  const fromOpen = input.from - first.interval * 1000;
  const out: Record<string, SimulatedRun> = {};
  for (const [name, signals] of Object.entries(input.providers)) {
    const r = await runBacktest({ candles: input.candles, markets: input.markets, accounts: input.accounts, signals, from: fromOpen });
    let lo = Infinity;
    let hi = -Infinity;
    for (const e of r.equity) [lo, hi] = [Math.min(lo, e.ts), Math.max(hi, e.ts)];
    out[name] = {
      totalReturn: r.report.total_return,
      buyHold: r.report.buy_and_hold.total_return,
      trades: r.trades.length,
      window: { from: r.equity.length ? lo : input.from, to: r.equity.length ? hi : input.from },
    };
  }
  return out;
}
