import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, isNull, lt, or } from 'drizzle-orm';
import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { users } from '../../../schema/index.ts';
import { listAccounts } from '../../../lib/accounts/accounts.ts';
import { hashPassword, verifyPassword } from '../../../lib/accounts/passwords.ts';
import { decryptSecret } from '../../../lib/accounts/secrets.ts';
import { createSession, isThrottled, recordFailedLogin, revokeSession } from '../../../lib/accounts/sessions.ts';
import { checkTotp } from '../../../lib/accounts/totp.ts';
import { accountIdsOf, findUserByEmail, publicUser } from '../../../lib/accounts/users.ts';
import { appendAudit } from '../../../lib/audit/index.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, SESSION_COOKIE } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { accountSchema, body, json, toJson, userSchema } from './schemas.ts';

const loginBody = z
  .object({ email: z.email().max(254), password: z.string().min(1).max(256), totp: z.string().regex(/^\d{6}$/).optional() })
  .strict()
  .openapi('LoginRequest');

const login = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  summary: 'Password (and TOTP for admins) → session token',
  request: { body: body(loginBody) },
  responses: {
    200: json(z.object({ token: z.string(), expiresAt: z.string(), user: userSchema }), 'Logged in'),
    400: errorResponses[400],
    401: errorResponses[401],
    429: json(errorSchema, 'Too many failed attempts'),
  },
});

// Checked when the email is unknown, so a miss costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;
const dummy = (): Promise<string> => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

/**
 * The address login throttling counts against: the entry the nearest proxy (ingress, gateway)
 * appended to X-Forwarded-For — a client can prepend entries but not choose the last one — else the
 * socket's peer.
 */
function clientAddress(c: Context): string {
  const forwarded = c.req.header('x-forwarded-for')?.split(',').map((s) => s.trim()).filter(Boolean);
  if (forwarded?.length) return forwarded[forwarded.length - 1]!;
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

export function registerAuth(app: AetherApp, ctx: AppContext): void {
  app.openapi(login, async (c) => {
    const { email, password, totp } = c.req.valid('json');
    const ip = clientAddress(c);
    if (await isThrottled(ctx.db, email, ip, ctx.clock)) throw new HttpError(429, 'THROTTLED', 'too many failed logins; try again in 15 minutes');
    const user = await findUserByEmail(ctx.db, email);
    const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummy()), password);
    const fail = async (code: string, message: string): Promise<never> => {
      await recordFailedLogin(ctx.db, email, ip, ctx.clock);
      throw new HttpError(401, code, message);
    };
    if (!user || !passwordOk || user.disabledAt) return fail('BAD_CREDENTIALS', 'wrong email or password');
    let step: number | null = null;
    if (user.role === 'admin' || user.totpSecretEnc) {
      if (!user.totpSecretEnc) return fail('TOTP_NOT_ENROLLED', 'this admin has no second factor enrolled');
      if (!totp) throw new HttpError(401, 'TOTP_REQUIRED', 'a TOTP code is required');
      step = checkTotp(decryptSecret(ctx.masterKey, user.totpSecretEnc), totp, Math.floor(ctx.clock.now() / 1000));
      if (step === null || step <= (user.totpLastStep ?? -1)) return fail('BAD_TOTP', 'wrong or already used TOTP code');
    }
    const session = await ctx.db.transaction(async (tx) => {
      if (step !== null) {
        // Claim the step atomically: of two concurrent logins with one code, only one may win.
        const claimed = await tx
          .update(users)
          .set({ totpLastStep: step })
          .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
          .returning({ id: users.id });
        if (claimed.length === 0) return null;
      }
      const s = await createSession(tx, user.id, ctx.clock);
      await appendAudit(tx, { action: 'auth.login', userId: user.id, details: { ip } }, ctx.clock);
      return s;
    });
    if (!session) return fail('BAD_TOTP', 'wrong or already used TOTP code');
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Strict',
      secure: Boolean(ctx.config.TLS_CERT),
      path: '/',
      expires: session.expiresAt,
    });
    return c.json({ token: session.token, expiresAt: session.expiresAt.toISOString(), user: toJson(publicUser(user)) }, 200);
  });

  app.use('/auth/logout', authenticate(ctx));
  app.use('/me', authenticate(ctx));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/auth/logout',
      tags: ['auth'],
      security: [{ bearer: [] }],
      responses: { 200: json(z.object({ ok: z.literal(true) }), 'Session revoked'), 401: errorResponses[401] },
    }),
    async (c) => {
      const user = c.get('user')!;
      const sessionId = c.get('sessionId')!;
      await ctx.db.transaction(async (tx) => {
        await revokeSession(tx, sessionId, ctx.clock);
        await appendAudit(tx, { action: 'auth.logout', userId: user.id, details: {} }, ctx.clock);
      });
      return c.json({ ok: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['auth'],
      security: [{ bearer: [] }],
      responses: { 200: json(z.object({ user: userSchema, accounts: z.array(accountSchema) }), 'The current user'), 401: errorResponses[401] },
    }),
    async (c) => {
      const user = c.get('user')!;
      const ids = await accountIdsOf(ctx.db, user);
      const all = await listAccounts(ctx.db);
      const visible = ids === 'all' ? all : all.filter((a) => ids.includes(a.id));
      return c.json({ user: toJson(publicUser(user)), accounts: visible.map(toJson) }, 200);
    },
  );
}
