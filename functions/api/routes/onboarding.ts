import { createRoute, z } from '@hono/zod-openapi';
import { AccountExistsError, createAccount, DEFAULT_ACCOUNTS, findAccount, listAccounts, accountInputSchema } from '../../../lib/accounts/accounts.ts';
import { consumeOnboardingToken, lockOnboarding } from '../../../lib/accounts/onboarding.ts';
import { seedAccount } from '../../../lib/accounts/settings.ts';
import { acceptInvite, countUsers, createUser, passwordSchema } from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { createdUserSchema } from './users.ts';
import { accountSchema, body, json, toJson, userSchema } from './schemas.ts';

const adminBody = z
  .object({ token: z.string().min(16).max(128), email: z.email().max(254), name: z.string().trim().min(1).max(100), password: passwordSchema })
  .strict()
  .openapi('OnboardingAdmin');

const inviteBody = z.object({ token: z.string().min(16).max(128), password: passwordSchema }).strict().openapi('InviteAccept');

const accountsBody = z
  .object({ accounts: z.array(accountInputSchema).min(1).max(20).optional() })
  .strict()
  .openapi('OnboardingAccounts');

export function registerOnboarding(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/onboarding',
      tags: ['onboarding'],
      summary: 'Whether first-run setup is still needed',
      responses: { 200: json(z.object({ needsAdmin: z.boolean(), accounts: z.number().int() }), 'Onboarding status') },
    }),
    async (c) => c.json({ needsAdmin: (await countUsers(ctx.db)) === 0, accounts: (await listAccounts(ctx.db)).length }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/admin',
      tags: ['onboarding'],
      summary: 'Create the first admin with the one-time token printed at first start',
      request: { body: body(adminBody) },
      responses: {
        201: json(createdUserSchema, 'First admin created; enrol the TOTP URI now'),
        400: errorResponses[400],
        403: json(errorSchema, 'Token unknown or used, or an admin exists'),
      },
    }),
    async (c) => {
      const { token, email, name, password } = c.req.valid('json');
      const created = await ctx.db.transaction(async (tx) => {
        await lockOnboarding(tx);
        if ((await countUsers(tx)) > 0 || !(await consumeOnboardingToken(tx, token, ctx.clock)))
          throw new HttpError(403, 'ONBOARDING_CLOSED', 'the onboarding token is unknown or used, or an admin already exists');
        return createUser(tx, { email, name, password, role: 'admin' }, { actor: null, masterKey: ctx.masterKey, clock: ctx.clock });
      });
      return c.json({ user: toJson(created.user), totpUri: created.totpUri }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/invite',
      tags: ['onboarding'],
      summary: 'An invited admin sets their password with the invite token (single use, 72 h), then logs in and enrols TOTP (POST /me/totp)',
      request: { body: body(inviteBody) },
      responses: {
        200: json(z.object({ user: userSchema }), 'Password set; log in to enrol the second factor'),
        400: errorResponses[400],
        403: json(errorSchema, 'Token unknown, used or expired'),
      },
    }),
    async (c) => {
      const { token, password } = c.req.valid('json');
      const user = await ctx.db.transaction((tx) => acceptInvite(tx, token, password, ctx.clock));
      if (!user) throw new HttpError(403, 'INVITE_INVALID', 'the invite token is unknown, used or expired');
      return c.json({ user: toJson(user) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/onboarding/accounts',
      tags: ['onboarding'],
      summary: 'Create the accounts (default: company, director-1, director-2); existing slugs are kept',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      request: { body: body(accountsBody) },
      responses: {
        200: json(z.object({ accounts: z.array(accountSchema) }), 'The accounts after onboarding'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
      },
    }),
    async (c) => {
      const wanted = c.req.valid('json').accounts ?? DEFAULT_ACCOUNTS;
      const actor = c.get('user')!.id;
      await ctx.db.transaction(async (tx) => {
        for (const input of wanted) {
          if (await findAccount(tx, input.slug)) continue;
          try {
            const a = await createAccount(tx, input, actor, ctx.clock);
            await seedAccount(tx, a.id, actor, ctx.clock);
          } catch (err) {
            if (!(err instanceof AccountExistsError)) throw err;
          }
        }
      });
      return c.json({ accounts: (await listAccounts(ctx.db)).map(toJson) }, 200);
    },
  );
}
