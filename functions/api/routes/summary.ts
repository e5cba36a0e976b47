import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { simState } from '../../../schema/index.ts';
import { listAccounts, type Account } from '../../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, simulationSettingsSchema } from '../../../lib/accounts/settings.ts';
import { accountIdsOf } from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import { withAccount } from '../../../lib/db/scope.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireAccountAccess } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { loadSummary } from '../../../lib/reports/summary-queries.ts';
import { accountParam, body, json } from './schemas.ts';

const usd = z.number().openapi({ description: 'US dollars' });
const fraction = z.number().openapi({ description: 'a fraction: 0.01 = 1 %' });
const time = z.string().openapi({ description: 'ISO 8601 UTC', example: '2026-01-05T13:00:00.000Z' });
const mode = z.enum(['simulation', 'live']);

export const accountSummarySchema = z
  .object({
    slug: z.string(),
    name: z.string(),
    mode,
    tradingState: z.object({ state: z.enum(['ACTIVE', 'REDUCING', 'HALTED']), reason: z.string().nullable(), since: time }),
    equityUsd: usd.nullable().openapi({ description: "marked to market at the last cycle; before the first cycle the starting balance (a live account's opening balances at the latest marks, null before its first reconciliation)" }),
    cashUsd: usd.nullable(),
    equityAt: time.nullable().openapi({ description: 'when equityUsd was marked; null before the first cycle' }),
    startingBalanceUsd: usd.nullable().openapi({ description: 'the simulated starting balance; null for a live account' }),
    holdings: z.array(z.object({ asset: z.string(), amount: z.number(), priceUsd: z.number().nullable(), valueUsd: usd.nullable() })),
    positions: z.array(
      z.object({
        pair: z.string(),
        qty: z.number(),
        avgPrice: z.number(),
        markPrice: z.number().nullable(),
        valueUsd: usd.nullable(),
        unrealizedPnlUsd: usd.nullable(),
        stopPrice: z.number().nullable().openapi({ description: 'the resting stop-loss level' }),
        takeProfitPrice: z.number().nullable(),
        openedAt: time.nullable(),
      }),
    ),
    openOrders: z.array(
      z.object({
        id: z.uuid(),
        clientId: z.string(),
        pair: z.string(),
        side: z.enum(['buy', 'sell']),
        type: z.string(),
        intent: z.string(),
        amount: z.number(),
        price: z.number().nullable(),
        status: z.string(),
        decidedAt: time,
      }),
    ),
    today: z.object({ pnlUsd: usd.nullable(), pnlPct: fraction.nullable(), dayStartEquityUsd: usd.nullable() }).openapi({ description: 'the UTC day so far; null before its first cycle' }),
    drawdown: z.object({ daily: fraction, softLimit: fraction, hardLimit: fraction, fromPeak: fraction.nullable() }).openapi({ description: "today's drawdown against the REDUCING (soft) and HALTED (hard) limits" }),
    hedge: z.object({ mode: z.enum(['auto', 'manual']).nullable(), target: fraction.nullable(), actual: fraction.nullable(), reason: z.string().nullable() }).openapi({ description: 'share of equity held in USD' }),
    lastCycle: z.object({ barTime: time, outcome: z.enum(['done', 'skipped', 'halted', 'failed']), finishedAt: time }).nullable(),
    nextCycleAt: time,
  })
  .openapi('AccountSummary');

const modeTotals = z
  .object({
    accounts: z.number().int(),
    equityUsd: usd,
    cashUsd: usd,
    todayPnlUsd: usd,
    todayPnlPct: fraction.nullable(),
    unvalued: z.number().int().openapi({ description: 'accounts whose equity is not known yet, left out of the sums' }),
  })
  .openapi('ModeTotals');

export const summarySchema = z
  .object({
    at: time,
    accounts: z.array(accountSummarySchema),
    totals: z.object({ simulation: modeTotals, live: modeTotals }).openapi({ description: 'per mode: simulated and live money are never added together' }),
  })
  .openapi('Summary');

const startingBalanceBody = z.object({ usd: simulationSettingsSchema.shape.initialUsd.unwrap() }).strict().openapi('StartingBalance');
const startingBalance = z.object({ usd: usd, version: z.number().int(), changed: z.boolean() }).openapi('StartingBalanceResult');

export function registerSummary(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/summary',
      tags: ['accounts'],
      summary: 'Every account the caller may see at a glance, with totals per mode (simulated and live never added together)',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      responses: { 200: json(summarySchema, 'The summary'), 401: errorResponses[401] },
    }),
    async (c) => {
      const ids = await accountIdsOf(ctx.db, c.get('user')!);
      const all = await listAccounts(ctx.db);
      return c.json(await loadSummary(ctx.db, ctx.clock, ids === 'all' ? all : all.filter((a) => ids.includes(a.id))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}/summary',
      tags: ['accounts'],
      summary: 'One account at a glance: mode, trading state, equity, holdings, positions with their stops, open orders, PnL, drawdown, hedge, cycles',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireAccountAccess(ctx, 'viewer')] as const,
      request: { params: accountParam },
      responses: { 200: json(accountSummarySchema, 'The account'), 401: errorResponses[401], 403: errorResponses[403], 404: json(errorSchema, 'No such account') },
    }),
    async (c) => {
      const { accounts } = await loadSummary(ctx.db, ctx.clock, [c.get('account' as never) as Account]);
      return c.json(accounts[0]!, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/accounts/{account}/starting-balance',
      tags: ['settings'],
      summary:
        "The simulated starting balance in USD (admin, audited). Only for a simulation that has not traded yet (409 otherwise) and never for a live account (409); the same value again changes nothing (changed: false).",
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireAccountAccess(ctx, 'admin')] as const,
      request: { params: accountParam, body: body(startingBalanceBody) },
      responses: {
        200: json(startingBalance, 'The starting balance now'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
        409: json(errorSchema, 'A live account (LIVE_ACCOUNT), or a simulation that has already traded (SIMULATION_STARTED)'),
      },
    }),
    async (c) => {
      const { usd: wanted } = c.req.valid('json');
      const a = c.get('account' as never) as Account;
      const out = await withAccount(ctx.db, a.id, async (tx) => {
        const current = await latestSettings(tx, a.id, 'simulation');
        if (!current.value.enabled) throw new HttpError(409, 'LIVE_ACCOUNT', `${a.slug} trades live: its balance is what Kraken holds, not a setting`);
        if (current.value.initialUsd === wanted) return { usd: wanted, version: current.version, changed: false };
        const [started] = await tx.select({ v: simState.version }).from(simState).where(eq(simState.accountId, a.id));
        if (started)
          throw new HttpError(409, 'SIMULATION_STARTED', `${a.slug}'s simulation has traded from ${current.value.initialUsd} USD: the starting balance can only be set before its first cycle`);
        const saved = await putSettings(tx, a.id, 'simulation', { ...current.value, initialUsd: wanted }, c.get('user')!.id, ctx.clock);
        return { usd: saved.value.initialUsd, version: saved.version, changed: true };
      });
      return c.json(out, 200);
    },
  );
}
