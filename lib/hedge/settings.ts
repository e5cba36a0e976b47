import { z } from 'zod';

const isoTime = z.iso.datetime({ offset: true });
const ratio = (name: string) => z.number({ error: `${name} must be a number` }).min(0, `${name} must be ≥ 0`).max(1, `${name} must be ≤ 1`);
const coef = (name: string, max: number) => z.number({ error: `${name} must be a number` }).min(0, `${name} must be ≥ 0`).max(max, `${name} must be ≤ ${max}`);

/** The object without cross-field rules, for callers that need its shape (`.shape`, `.pick`); validate whole settings with hedgeSettingsSchema. */
export const hedgeSettingsObject = z
  .object({
    mode: z.enum(['auto', 'manual']).default('auto'),
    /** Manual mode: the admin's share of equity to hold in USD. */
    manualRatio: ratio('manualRatio').nullable().default(null),
    /** Manual mode ends at this time (back to auto); null = until changed. Stored as epoch ms; given as epoch ms or ISO 8601 (the API shows ISO 8601). */
    manualExpiry: z
      .preprocess(
        (v) => (typeof v === 'string' && isoTime.safeParse(v).success ? Date.parse(v) : v),
        z
          .number({ error: 'manualExpiry must be an ISO 8601 time with its offset (or epoch ms)' })
          .int('manualExpiry must be an epoch-ms integer')
          .positive('manualExpiry must be an epoch-ms time'),
      )
      .nullable()
      .default(null),
    base: ratio('base').default(0.1),
    min: ratio('min').default(0),
    max: ratio('max').default(0.8),
    /** Added hedge per unit of annualised volatility above volReference. */
    volCoefficient: coef('volCoefficient', 10).default(0.5),
    volReference: coef('volReference', 5).default(0.6),
    /** Added hedge per unit of current drawdown (0.05 drawdown × 2 = +0.10). */
    drawdownCoefficient: coef('drawdownCoefficient', 50).default(2),
    /** The target moves only when the new value differs by more than this. */
    band: coef('band', 0.5).default(0.05),
    /** Rebalance only when the actual ratio is further than this from the target. */
    tolerance: coef('tolerance', 0.5).default(0.03),
    instrument: z.enum(['USD', 'USDC/USD', 'USDT/USD']).default('USD'),
  })
  .strict();

export const hedgeSettingsSchema = hedgeSettingsObject.superRefine((s, ctx) => {
  if (!(s.min <= s.base && s.base <= s.max))
    ctx.addIssue({ code: 'custom', path: ['base'], message: `hedge bounds must satisfy min ≤ base ≤ max (got ${s.min} ≤ ${s.base} ≤ ${s.max})` });
  if (s.mode === 'manual' && s.manualRatio === null)
    ctx.addIssue({ code: 'custom', path: ['manualRatio'], message: 'manual mode needs a manualRatio' });
});

export type HedgeSettings = z.infer<typeof hedgeSettingsSchema>;
