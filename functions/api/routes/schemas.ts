import { z } from '@hono/zod-openapi';

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'viewer']),
    totpEnrolled: z.boolean(),
    mustChangePassword: z.boolean(),
    disabled: z.boolean(),
    invitePending: z.boolean().openapi({ description: 'an invited admin who has not set a password yet' }),
    createdAt: z.string(),
  })
  .openapi('User');

export const accountSchema = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), kind: z.enum(['company', 'director', 'other']), createdAt: z.string() })
  .openapi('Account');

/** An account's slug (lib/accounts: lowercase letters, digits and dashes, at most 40) or its uuid. */
export const ACCOUNT_REF = /^(?:[a-z0-9][a-z0-9-]{0,39}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;

/** An account named by its slug or its id, wherever an account is named (path, query or body). */
export const accountRef = z.string().min(1).max(40).regex(ACCOUNT_REF, 'must be an account slug (a-z, 0-9, -) or id');

export const accountParam = z.object({
  account: accountRef.openapi({ param: { name: 'account', in: 'path' }, description: 'account id or slug', example: 'company' }),
});

// Calendar-checked (2024-02-31 is refused) and within what the data can hold: year 0 or 275760 is
// a valid ISO string that PostgreSQL or Date cannot store.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const inRange = (s: string): boolean => {
  const t = Date.parse(s);
  return t >= EARLIEST && t <= LATEST;
};
/** An ISO 8601 timestamp with its offset, from 1970 to 9999. */
export const isoTime = z.iso.datetime({ offset: true }).refine(inRange, 'must be between 1970 and 9999');
/** A calendar day YYYY-MM-DD, from 1970 to 9999. */
export const isoDay = z.iso
  .date()
  .refine(inRange, 'must be between 1970 and 9999')
  .openapi({ pattern: String.raw`^\d{4}-\d{2}-\d{2}$`, example: '2026-01-05' });

/**
 * A query bound given as a day or a time: a day means its UTC midnight, so `from=2026-01-05` and
 * `from=2026-01-05T00:00:00Z` select the same rows on every route.
 */
export const isoDayOrTime = z
  .string()
  .max(40)
  .refine((s) => isoDay.safeParse(s).success || isoTime.safeParse(s).success, 'must be a day YYYY-MM-DD or an ISO 8601 time with its offset, between 1970 and 9999')
  .openapi({ pattern: String.raw`^\d{4}-\d{2}-\d{2}(T.+)?$`, description: 'YYYY-MM-DD (its UTC midnight) or an ISO 8601 time with its offset', example: '2026-01-05' });
/** The instant a day-or-time bound names. */
export const instantOf = (s: string): Date => new Date(s.length === 10 ? `${s}T00:00:00Z` : s);
/** The UTC calendar day a day-or-time bound falls on. */
export const utcDayOf = (s: string): string => instantOf(s).toISOString().slice(0, 10);

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const toJson = <T extends { createdAt: Date }>(r: T) => ({ ...r, createdAt: r.createdAt.toISOString() });
