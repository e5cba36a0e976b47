import { createRoute, z } from '@hono/zod-openapi';
import { accountInputSchema, AccountExistsError, createAccount, listAccounts } from '../../../lib/accounts/accounts.ts';
import { seedAccount } from '../../../lib/accounts/settings.ts';
import { accountIdsOf } from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireAccountAccess, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { accountParam, accountSchema, body, json, toJson } from './schemas.ts';

export function registerAccounts(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts',
      tags: ['accounts'],
      summary: 'Accounts the caller may see',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      responses: { 200: json(z.object({ accounts: z.array(accountSchema) }), 'Accounts'), 401: errorResponses[401] },
    }),
    async (c) => {
      const ids = await accountIdsOf(ctx.db, c.get('user')!);
      const all = await listAccounts(ctx.db);
      return c.json({ accounts: (ids === 'all' ? all : all.filter((a) => ids.includes(a.id))).map(toJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/accounts/{account}',
      tags: ['accounts'],
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireAccountAccess(ctx, 'viewer')] as const,
      request: { params: accountParam },
      responses: {
        200: json(accountSchema, 'The account'),
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account'),
      },
    }),
    async (c) => c.json(toJson(c.get('account' as never) as never), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/accounts',
      tags: ['accounts'],
      summary: 'Create an account (admin)',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      request: { body: body(accountInputSchema) },
      responses: {
        201: json(accountSchema, 'Created'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        409: json(errorSchema, 'Slug taken'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const user = c.get('user')!;
      try {
        const account = await ctx.db.transaction(async (tx) => {
          const a = await createAccount(tx, input, user.id, ctx.clock);
          await seedAccount(tx, a.id, user.id, ctx.clock);
          return a;
        });
        return c.json(toJson(account), 201);
      } catch (err) {
        if (err instanceof AccountExistsError) throw new HttpError(409, 'ACCOUNT_EXISTS', err.message);
        throw err;
      }
    },
  );
}
