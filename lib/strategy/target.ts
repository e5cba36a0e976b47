import { closeTime } from '../market/candle.ts';
import type { Signal } from './signal.ts';
import type { TradingSettings } from './settings.ts';

/** What the strategy wants for one account and pair, long-only: hold a position or be flat. */
export type Target =
  | { action: 'enter'; reason: string }
  | { action: 'exit'; reason: string }
  | { action: 'hold'; reason: string } // keep the position
  | { action: 'stay-flat'; reason: string };

export type TargetSettings = Pick<
  TradingSettings,
  'entryThreshold' | 'exitThreshold' | 'maxOpenPositions' | 'maxSignalAgeBars' | 'candleInterval' | 'allowBearEntries' | 'decisionInterval'
>;

/**
 * True when `now` (a bar close) is a decision time: a multiple of decisionInterval in UTC epoch
 * time. Stateless: live, simulation and backtest agree on it from the clock alone.
 */
export function isDecisionTime(now: number, s: Pick<TradingSettings, 'decisionInterval'>): boolean {
  return now % (s.decisionInterval * 1000) === 0;
}

/** True when the signal's candle closed no more than maxSignalAgeBars before `now`. */
export function signalFresh(signal: Signal, now: number, s: Pick<TradingSettings, 'maxSignalAgeBars' | 'candleInterval'>): boolean {
  const closedAt = closeTime({ openTime: signal.time, interval: s.candleInterval });
  return closedAt <= now && now - closedAt < s.maxSignalAgeBars * s.candleInterval * 1000;
}

/**
 * Signal → target, at decision times only (between them: hold or stay flat; stops and take-profits
 * are checked every bar, separately, on prices). Holding: exit when probUp ≤ exitThreshold. Flat:
 * enter when probUp ≥ entryThreshold, the regime is not bear (unless allowed), the account has a free
 * position slot and the signal is fresh. A stale or missing signal never opens a position and never
 * closes one either (the stop still protects it).
 */
export function targetPosition(signal: Signal | null, holding: boolean, openPositions: number, now: number, s: TargetSettings): Target {
  if (!isDecisionTime(now, s)) return holding ? { action: 'hold', reason: 'between decisions' } : { action: 'stay-flat', reason: 'between decisions' };
  if (signal === null) return holding ? { action: 'hold', reason: 'no signal' } : { action: 'stay-flat', reason: 'no signal' };
  if (!signalFresh(signal, now, s)) return holding ? { action: 'hold', reason: 'signal stale' } : { action: 'stay-flat', reason: 'signal stale' };
  const p = signal.probUp.toFixed(3);
  if (holding) {
    return signal.probUp <= s.exitThreshold
      ? { action: 'exit', reason: `probUp ${p} ≤ exit threshold ${s.exitThreshold}` }
      : { action: 'hold', reason: `probUp ${p} above exit threshold ${s.exitThreshold}` };
  }
  if (signal.probUp < s.entryThreshold) return { action: 'stay-flat', reason: `probUp ${p} < entry threshold ${s.entryThreshold}` };
  if (signal.regime.label === 'bear' && !s.allowBearEntries) return { action: 'stay-flat', reason: 'bear regime' };
  if (openPositions >= s.maxOpenPositions) return { action: 'stay-flat', reason: `max open positions ${s.maxOpenPositions} reached` };
  return { action: 'enter', reason: `probUp ${p} ≥ entry threshold ${s.entryThreshold}, regime ${signal.regime.label}` };
}
