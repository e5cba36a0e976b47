import { z } from 'zod';

const USD_PAIR = /^[A-Z0-9]{1,12}\/USD$/;
const INTERVALS = [60, 300, 900, 1800, 3600, 14_400, 86_400] as const;

const int = (name: string, min: number, max: number) =>
  z.number({ error: `${name} must be a number` }).int(`${name} must be an integer`).min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`);
const num = (name: string, min: number, max: number) =>
  z.number({ error: `${name} must be a number` }).min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`);

/** The object without cross-field rules, for callers that need its shape (`.shape`, `.pick`); validate whole settings with tradingSettingsSchema. */
export const tradingSettingsObject = z
  .object({
    /** Pairs the account may trade: Kraken spot USD pairs only. */
    pairs: z
      .array(z.string().regex(USD_PAIR, 'pairs must be spot USD pairs like "BTC/USD"'))
      .min(1, 'pairs must list at least one pair')
      .max(50, 'pairs may list at most 50 pairs')
      .refine((p) => new Set(p).size === p.length, 'pairs must not repeat')
      .default(['BTC/USD', 'ETH/USD', 'SOL/USD']),
    /**
     * Enter when probUp ≥ this (and the regime is not bear, and the expected edge clears the
     * account's round-trip costs). The default signal's probUp is P(the horizon's return clears a
     * round trip), so 0.5 means "expected to beat its costs" — no more is asked of it.
     */
    entryThreshold: num('entryThreshold', 0.5, 0.99).default(0.5),
    /**
     * Exit when probUp ≤ this. 0.47 is about where the default signal's expected return turns
     * negative (Φ(−cost/σ_week) for σ_week ≈ 10–15 %): the band below entryThreshold is the
     * hysteresis that keeps a position through noise.
     */
    exitThreshold: num('exitThreshold', 0.01, 0.9).default(0.47),
    /** Bars ahead the signal's probability and expected return refer to. */
    signalHorizonBars: int('signalHorizonBars', 1, 720).default(168),
    /** Candle interval in seconds the signals are computed on. */
    candleInterval: z
      .number()
      .refine((v) => (INTERVALS as readonly number[]).includes(v), `candleInterval must be one of ${INTERVALS.join(', ')} seconds`)
      .default(3600),
    /**
     * Seconds between decisions: entries and signal exits happen only at bar closes on multiples of
     * it (UTC), stops and trailing every bar. 86400: once a day at 00:00 UTC — a horizon that fits a
     * signal of weeks, and a natural cooldown (a stop-out is never followed by an entry in the same
     * day's noise).
     */
    decisionInterval: z
      .number()
      .refine((v) => (INTERVALS as readonly number[]).includes(v), `decisionInterval must be one of ${INTERVALS.join(', ')} seconds`)
      .default(86_400),
    maxOpenPositions: int('maxOpenPositions', 1, 50).default(3),
    /** A signal older than this many bars at decision time opens nothing. */
    maxSignalAgeBars: int('maxSignalAgeBars', 1, 48).default(2),
    allowBearEntries: z.boolean().default(false),
    entryOrderType: z.enum(['market', 'limit']).default('market'),
    /** Limit entries: price above the mark, in basis points, to be filled promptly. */
    limitOffsetBps: num('limitOffsetBps', 0, 200).default(5),
    // No `baseline` here: `score` computes one baseline signal per pair for every account (the
    // parameters in lib/strategy/baseline.ts), so per-account indicator settings could never take
    // effect. Accounts adapt through their thresholds above (and the risk settings' stop/target
    // multiples). Migration 0006 strips the key from stored rows; `.strict()` refuses it from now on.
  })
  .strict();

export const tradingSettingsSchema = tradingSettingsObject.superRefine((s, ctx) => {
  if (s.exitThreshold >= s.entryThreshold)
    ctx.addIssue({ code: 'custom', path: ['exitThreshold'], message: `exitThreshold (${s.exitThreshold}) must be below entryThreshold (${s.entryThreshold})` });
  if (s.decisionInterval % s.candleInterval !== 0)
    ctx.addIssue({ code: 'custom', path: ['decisionInterval'], message: `decisionInterval (${s.decisionInterval}) must be a multiple of candleInterval (${s.candleInterval})` });
});

export type TradingSettings = z.infer<typeof tradingSettingsSchema>;
