import { createRoute, z } from '@hono/zod-openapi';
import { findAccount, listAccounts } from '../../../lib/accounts/accounts.ts';
import { accountIdsOf } from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { listSystemEvents, type EventLevel } from '../../../lib/system/events.ts';
import { accountRef, instantOf, isoDayOrTime, json } from './schemas.ts';

const LEVELS = ['error', 'risk'] as const;

const eventSchema = z
  .object({
    id: z.string(),
    ts: z.string(),
    level: z.enum(LEVELS).openapi({ description: 'error: an error-level log line; risk: a refusal, a trading-state change, an admin halt, a reconciliation difference' }),
    source: z.string().openapi({ description: 'the function or queue that logged it; "risk" for risk events' }),
    account: z.string().nullable().openapi({ description: 'the account slug (null: a global error, admins only)' }),
    code: z.string().nullable().openapi({ description: "a risk event's code (DAILY_DRAWDOWN_HALT, STATE_HALTED, ADMIN_HALT, RECONCILIATION_MISMATCH, …)" }),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('SystemEvent');

const eventsQuery = z
  .object({
    level: z.enum(LEVELS).optional().openapi({ pattern: '^(error|risk)$', description: 'one level; both when absent' }),
    account: accountRef.optional().openapi({ description: 'account slug or id', example: 'company' }),
    before: isoDayOrTime.optional().openapi({ description: 'only events before this (exclusive): the last `ts` of the previous page' }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

/** The system log: recent errors and risk events (admins: all; viewers: their accounts' only). */
export function registerSystem(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/system/events',
      tags: ['ops'],
      summary: 'Recent errors and risk events, newest first. Admins see every account and global errors; a viewer sees only their accounts’ events.',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      request: { query: eventsQuery },
      responses: {
        200: json(z.object({ events: z.array(eventSchema) }), 'Events, newest first'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account (ACCOUNT_NOT_FOUND)'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const ids = await accountIdsOf(ctx.db, c.get('user')!);
      let accounts = (await listAccounts(ctx.db)).filter((a) => ids === 'all' || ids.includes(a.id));
      if (q.account) {
        const named = await findAccount(ctx.db, q.account);
        if (!named) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', `no account ${q.account}`);
        if (!accounts.some((a) => a.id === named.id)) throw new HttpError(403, 'FORBIDDEN', 'no access to this account');
        accounts = [named];
      }
      const events = await listSystemEvents(ctx.db, {
        levels: q.level ? [q.level] : (LEVELS as readonly EventLevel[]),
        accounts,
        global: ids === 'all' && !q.account,
        before: q.before ? instantOf(q.before) : undefined,
        limit: q.limit,
      });
      return c.json({ events: events.map((e) => ({ ...e, ts: e.ts.toISOString() })) }, 200);
    },
  );
}
