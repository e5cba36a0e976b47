import type { MarketSpec } from '../exchange/types.ts';
import { basketVolAnnual } from '../hedge/inputs.ts';
import type { Candle } from '../market/candle.ts';
import { alignCloses, correlationGroups, correlationMatrix } from '../risk/correlation.ts';
import type { RiskSettings } from '../risk/settings.ts';
import type { Signal } from '../strategy/signal.ts';
import type { MarketView } from './types.ts';

const tail = <T>(xs: readonly T[], n: number): readonly T[] => (xs.length <= n ? xs : xs.slice(xs.length - n));

/**
 * The market at decision time `now` from each pair's closed candles (ascending, up to now): newest
 * bar, correlated groups over the account's window, and the universe's realised volatility. Live and
 * backtest build it with this one function.
 */
export function marketView(
  history: Readonly<Record<string, readonly Candle[]>>,
  signals: Readonly<Record<string, Signal | null>>,
  markets: Readonly<Record<string, MarketSpec>>,
  now: number,
  risk: Pick<RiskSettings, 'correlationWindow' | 'correlationThreshold' | 'defaultSlippage'>,
  volWindow = 168,
): MarketView {
  const bars: Record<string, Candle> = {};
  const recent: Record<string, readonly Candle[]> = {};
  const window = Math.max(risk.correlationWindow, volWindow) + 1;
  for (const [pair, candles] of Object.entries(history)) {
    const last = candles[candles.length - 1];
    if (!last || !markets[pair]) continue;
    bars[pair] = last;
    recent[pair] = tail(candles, window);
  }
  const aligned = alignCloses(recent);
  const corrCloses = Object.fromEntries(Object.entries(aligned).map(([p, c]) => [p, tail(c, risk.correlationWindow + 1)]));
  const { groupOf } = correlationGroups(correlationMatrix(corrCloses, risk.correlationWindow), risk.correlationThreshold);
  const risky = Object.keys(aligned).filter((p) => !markets[p]!.stablecoin);
  const interval = Object.values(bars)[0]?.interval ?? 3600;
  const vol = basketVolAnnual(aligned, Object.fromEntries(risky.map((p) => [p, 1])), volWindow, interval);
  return {
    now,
    bars,
    signals,
    markets,
    groupOf,
    slippage: Object.fromEntries(Object.keys(bars).map((p) => [p, risk.defaultSlippage])),
    volAnnual: Number.isFinite(vol) ? vol : 0,
  };
}
