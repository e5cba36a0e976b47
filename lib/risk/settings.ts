import { z } from 'zod';

/** Fractions (0.01 = 1 %) unless the name says otherwise. */
const fraction = (name: string, min: number, max: number) =>
  z.number({ error: `${name} must be a number` }).min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`);

const regimeMultiplier = z
  .object({
    sl: fraction('regime SL multiplier', 0.1, 5),
    tp: fraction('regime TP multiplier', 0.1, 5),
  })
  .strict();

const DEFAULT_REGIME_MULTIPLIERS = {
  // Trends run further in a bull market; in a bear market take profit early and cut losers fast.
  bull: { sl: 1, tp: 1.25 },
  sideways: { sl: 0.9, tp: 0.8 },
  bear: { sl: 0.75, tp: 0.6 },
};

/** The object without cross-field rules, for callers that need its shape (`.shape`, `.pick`); validate whole settings with riskSettingsSchema. */
export const riskSettingsObject = z
  .object({
    /** Share of equity lost if a stop is hit: caps the volatility-targeted size (fees and slippage of both legs included). */
    riskPerTrade: fraction('riskPerTrade', 0.0001, 0.05).default(0.03),
    /**
     * Bars whose noise the ATR multiples below are measured against: the signal's per-bar ATR times
     * √atrHorizonBars. 24 with 1h candles: stops sit outside a day's noise, the horizon decisions are
     * taken at, not inside an hour's (2 ATRs of 1h bars were hit by noise every day or two).
     */
    atrHorizonBars: z.number().int('atrHorizonBars must be an integer').min(1, 'atrHorizonBars must be ≥ 1').max(720, 'atrHorizonBars must be ≤ 720').default(24),
    slAtrMultiple: fraction('slAtrMultiple', 0.1, 20).default(3),
    tpAtrMultiple: fraction('tpAtrMultiple', 0.1, 40).default(6),
    minSlPct: fraction('minSlPct', 0.001, 0.5).default(0.02),
    maxSlPct: fraction('maxSlPct', 0.001, 0.5).default(0.25),
    minTpPct: fraction('minTpPct', 0.001, 2).default(0.04),
    maxTpPct: fraction('maxTpPct', 0.001, 2).default(0.6),
    regimeMultipliers: z
      .object({ bull: regimeMultiplier, sideways: regimeMultiplier, bear: regimeMultiplier })
      .strict()
      .default(DEFAULT_REGIME_MULTIPLIERS),
    /**
     * Trailing stop distance in ATR multiples (of the atrHorizonBars ATR); 0 turns trailing off. 6
     * daily ATRs (clamped to maxSlPct): protection that lets a trend run, not the main exit — the
     * signal's exit is. At 3 a bull market's ordinary pullbacks stopped positions out, and re-entry
     * came days later and higher (issue 10's held-out bull runs).
     */
    trailAtrMultiple: fraction('trailAtrMultiple', 0, 20).default(6),
    /** Largest value of one pair as a share of equity. */
    maxPairExposure: fraction('maxPairExposure', 0.001, 1).default(0.25),
    /** Largest combined value of a group of correlated pairs as a share of equity. */
    maxGroupExposure: fraction('maxGroupExposure', 0.001, 1).default(0.5),
    /** Pairs whose return correlation is at or above this share a group cap. */
    correlationThreshold: fraction('correlationThreshold', 0, 1).default(0.7),
    /** Bars of log returns in the rolling correlation. */
    correlationWindow: z.number().int('correlationWindow must be an integer').min(10, 'correlationWindow must be ≥ 10').max(5000, 'correlationWindow must be ≤ 5000').default(168),
    softDailyDrawdown: fraction('softDailyDrawdown', 0.001, 0.5).default(0.03),
    hardDailyDrawdown: fraction('hardDailyDrawdown', 0.001, 0.9).default(0.05),
    /** On HALTED, also sell every position (otherwise only entries are cancelled). */
    flattenOnHalt: z.boolean().default(false),
    /** Extra return an entry must expect above round-trip fees and slippage. */
    edgeMargin: fraction('edgeMargin', 0, 0.1).default(0.001),
    /** Annualised volatility each position aims for: its share of equity is volTargetAnnual / the pair's realised volatility. */
    volTargetAnnual: fraction('volTargetAnnual', 0.01, 5).default(0.15),
    /** Cap on that share of equity (a calm market must not lever a position up without bound). */
    maxVolScale: fraction('maxVolScale', 0.1, 5).default(1),
    /** Expected slippage (fraction) for a pair the caller gives none for. */
    defaultSlippage: fraction('defaultSlippage', 0, 0.05).default(0.0005),
    /** Shrink an entry to fit a cap or the free balance instead of refusing it. */
    reduceToFit: z.boolean().default(true),
  })
  .strict();

export const riskSettingsSchema = riskSettingsObject.superRefine((s, ctx) => {
  if (s.hardDailyDrawdown <= s.softDailyDrawdown)
    ctx.addIssue({ code: 'custom', path: ['hardDailyDrawdown'], message: `hardDailyDrawdown (${s.hardDailyDrawdown}) must exceed softDailyDrawdown (${s.softDailyDrawdown})` });
  if (s.minSlPct > s.maxSlPct)
    ctx.addIssue({ code: 'custom', path: ['minSlPct'], message: `minSlPct (${s.minSlPct}) must be ≤ maxSlPct (${s.maxSlPct})` });
  if (s.minTpPct > s.maxTpPct)
    ctx.addIssue({ code: 'custom', path: ['minTpPct'], message: `minTpPct (${s.minTpPct}) must be ≤ maxTpPct (${s.maxTpPct})` });
  if (s.maxPairExposure > s.maxGroupExposure)
    ctx.addIssue({ code: 'custom', path: ['maxPairExposure'], message: `maxPairExposure (${s.maxPairExposure}) must be ≤ maxGroupExposure (${s.maxGroupExposure})` });
});

export type RiskSettings = z.infer<typeof riskSettingsSchema>;
