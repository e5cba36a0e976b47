import { z } from 'zod';
import type { Candle } from '../market/candle.ts';
import type { Signal } from '../strategy/signal.ts';
import { defaultTrendOptions, trendWarmup, type TrendOptions } from '../strategy/trend.ts';
import { lazyTrendSignal } from '../strategy/trend-lazy.ts';

/**
 * Scoring: one signal per pair from its closed candles up to `asOf` (null while history is too short).
 * The `score` function and the backtest call the same provider, so both see the same signals.
 */
export interface SignalProvider {
  readonly name: string;
  /** How many of the newest candles the provider reads. */
  readonly lookback: number;
  /** Other pairs whose candles the provider reads (cross-asset features), e.g. BTC/USD. */
  readonly companions?: readonly string[];
  /** `others`: every loaded pair's candles up to `asOf` (at least the companions), for cross-asset features. */
  signal(history: readonly Candle[], asOf: number, others?: Readonly<Record<string, readonly Candle[]>>): Signal | null;
}

/** The transparent signal every deployment has (lib/strategy/trend.ts, 'trend-v3'), with other options for research. */
export function trendProvider(options: Partial<Omit<TrendOptions, 'asOf'>> = {}, name = 'baseline'): SignalProvider {
  const o = { ...defaultTrendOptions, ...options };
  const warm = trendWarmup(o);
  return {
    name,
    lookback: o.lookback,
    signal(history, asOf) {
      let closed = history.length;
      while (closed > 0 && history[closed - 1]!.openTime + history[closed - 1]!.interval * 1000 > asOf) closed--;
      // Numbers computed when read (lib/strategy/trend-lazy.ts): between decisions the cycle reads few of them.
      return closed < warm ? null : lazyTrendSignal(history, o, asOf);
    },
  };
}

/** The default provider of `score` and `aether backtest` (its name stays 'baseline': the ML champion's fallback). */
export const baselineProvider: SignalProvider = trendProvider();

const finite = z.number().finite();
/** What a provider may hand to scoring: a signal whose numbers the strategy can act on (no NaN, no probability outside [0, 1]). */
const signalSchema = z.object({
  pair: z.string().min(1),
  time: z.number().int(),
  probUp: finite.min(0).max(1),
  expectedReturn: finite,
  horizonBars: z.number().int().min(1),
  regime: z.object({ label: z.enum(['bull', 'bear', 'sideways']), probs: z.record(z.string(), finite) }),
  volatility: finite.nonnegative(),
  atrPct: finite.nonnegative(),
  modelVersion: z.string().min(1),
});

/** A pair a provider could not score, and why. */
export interface SignalFailure {
  provider: string;
  pair: string;
  error: string;
}

/**
 * `provider` with each pair on its own: when it throws for one pair, or returns a signal that is not
 * usable (NaN, a probability outside [0, 1], another pair's), that pair gets no signal and the failure
 * is appended to `failed`, while every other pair is scored as usual — one bad series or model input
 * never costs the other pairs (and so every account) their signals. A pair without a signal opens
 * nothing at that bar; its positions keep their stops.
 */
export function perPairIsolated(provider: SignalProvider, failed: SignalFailure[]): SignalProvider {
  return {
    name: provider.name,
    lookback: provider.lookback,
    ...(provider.companions === undefined ? {} : { companions: provider.companions }),
    signal(history, asOf, others) {
      const pair = history.at(-1)?.pair ?? '?';
      try {
        const s = provider.signal(history, asOf, others);
        if (s === null) return null;
        const checked = signalSchema.safeParse(s);
        if (!checked.success) throw new Error(`unusable signal: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        if (s.pair !== pair) throw new Error(`signal for ${s.pair} returned for ${pair}`);
        return s;
      } catch (err) {
        failed.push({ provider: provider.name, pair, error: (err as Error).message });
        return null;
      }
    },
  };
}
