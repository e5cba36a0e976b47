import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { setCookie } from 'hono/cookie';
import { listAccounts } from '../../../lib/accounts/accounts.ts';
import { clearFailures, enterThrottle, recordFailure, throttleKeys, type ThrottleKeys } from '../../../lib/accounts/login-throttle.ts';
import { hashPassword, verifyPassword } from '../../../lib/accounts/passwords.ts';
import { createSession, openStepUp, revokeSession } from '../../../lib/accounts/sessions.ts';
import {
  accountIdsOf,
  changePassword,
  claimTotp,
  confirmTotpEnrolment,
  endSessions,
  findUserByEmail,
  obligationsOf,
  openTotp,
  passwordSchema,
  publicUser,
  startTotpEnrolment,
  UserRuleError,
} from '../../../lib/accounts/users.ts';
import { appendAudit } from '../../../lib/audit/index.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { Tx } from '../../../lib/db/client.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { assertSteppedUp, authenticate, clientAddress, sessionCookie } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { accountSchema, body, json, toJson, userSchema } from './schemas.ts';

const totpCode = z.string().regex(/^\d{6}$/, 'a 6-digit code');
const obligations = z
  .array(z.enum(['PASSWORD_CHANGE_REQUIRED', 'TOTP_ENROLMENT_REQUIRED']))
  .openapi({ description: 'what the user must do first; until then only /me, /me/password, /me/totp and logout answer' });

const loginBody = z.object({ email: z.email().max(254), password: z.string().min(1).max(256), totp: totpCode.optional() }).strict().openapi('LoginRequest');
const stepUpBody = z.object({ totp: totpCode }).strict().openapi('StepUpRequest');
const passwordBody = z.object({ currentPassword: z.string().min(1).max(256), newPassword: passwordSchema }).strict().openapi('PasswordChange');

const throttledResponse = {
  description: 'Too many failed attempts: wait the Retry-After seconds (attempts meanwhile are refused and do not extend the wait)',
  headers: { 'Retry-After': { schema: { type: 'integer' as const }, description: 'seconds until the next attempt is looked at' } },
  content: { 'application/json': { schema: errorSchema } },
};

const login = createRoute({
  method: 'post',
  path: '/auth/login',
  tags: ['auth'],
  summary: 'Password (and TOTP when enrolled; admins must) → session token. A TOTP login also opens the 5-minute step-up window.',
  request: { body: body(loginBody) },
  responses: {
    200: json(z.object({ token: z.string(), expiresAt: z.string(), user: userSchema, obligations }), 'Logged in'),
    400: errorResponses[400],
    401: errorResponses[401],
    429: throttledResponse,
  },
});

// Checked when the email is unknown, so a miss costs the same time as a wrong password.
let dummyHash: Promise<string> | undefined;
const dummy = (): Promise<string> => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

type Attempt<T> = { ok: true; value: T } | { ok: false; status: 401 | 403; code: string; message: string; userId: string | null };

/**
 * Runs a credential check under the login backoff of `keys`, in one transaction: refused at once
 * (429 + Retry-After) while a key waits; a failure is counted and audited (`failedAction`, never the
 * secret tried) and answered after the commit; a success clears the email's failures.
 */
async function throttledAttempt<T>(
  c: Context,
  ctx: AppContext,
  keys: ThrottleKeys,
  failedAction: string,
  details: Record<string, unknown>,
  attempt: (tx: Tx) => Promise<Attempt<T>>,
): Promise<T> {
  const r = await ctx.db.transaction(async (tx): Promise<{ blocked: Date } | { out: Attempt<T> }> => {
    const blocked = await enterThrottle(tx, [keys.email, keys.ip], ctx.clock);
    if (blocked) return { blocked };
    const out = await attempt(tx);
    if (out.ok) await clearFailures(tx, [keys.email]);
    else {
      await recordFailure(tx, [keys.email, keys.ip], ctx.clock);
      await appendAudit(tx, { action: failedAction, userId: out.userId, details: { ...details, reason: out.code } }, ctx.clock);
    }
    return { out };
  });
  if ('blocked' in r) {
    const seconds = Math.max(1, Math.ceil((r.blocked.getTime() - ctx.clock.now()) / 1000));
    c.header('Retry-After', String(seconds));
    throw new HttpError(429, 'THROTTLED', `too many failed attempts; try again in ${seconds} s`);
  }
  if (!r.out.ok) throw new HttpError(r.out.status, r.out.code, r.out.message);
  return r.out.value;
}

const fail = (code: string, message: string, userId: string | null = null, status: 401 | 403 = 401) => ({ ok: false as const, status, code, message, userId });

export function registerAuth(app: AetherApp, ctx: AppContext): void {
  const cookie = sessionCookie(ctx.config);
  const hops = ctx.config.TRUSTED_PROXY_HOPS;

  app.openapi(login, async (c) => {
    const { email, password, totp } = c.req.valid('json');
    const ip = clientAddress(c, hops);
    const done = await throttledAttempt(c, ctx, throttleKeys(email, ip), 'auth.login_failed', { email: email.toLowerCase(), ip }, async (tx) => {
      const user = await findUserByEmail(tx, email);
      const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummy()), password);
      if (!user || !user.passwordHash || !passwordOk || user.disabledAt) return fail('BAD_CREDENTIALS', 'wrong email or password', user?.id);
      // An admin without a second factor (invited, or reset by another admin) gets a session that can only enrol one.
      const steppedUp = user.totpSecretEnc !== null;
      if (user.totpSecretEnc) {
        if (!totp) throw new HttpError(401, 'TOTP_REQUIRED', 'a TOTP code is required');
        const step = await claimTotp(tx, user.id, openTotp(ctx.masterKey, user.id, user.totpSecretEnc), totp, ctx.clock);
        if (step === null) return fail('BAD_TOTP', 'wrong or already used TOTP code', user.id);
      }
      const session = await createSession(tx, user.id, ctx.clock, steppedUp);
      await appendAudit(tx, { action: 'auth.login', userId: user.id, details: { ip, totp: steppedUp } }, ctx.clock);
      return { ok: true as const, value: { session, user } };
    });
    setCookie(c, cookie.name, done.session.token, { httpOnly: true, sameSite: 'Strict', secure: cookie.secure, path: '/', expires: done.session.expiresAt });
    return c.json(
      { token: done.session.token, expiresAt: done.session.expiresAt.toISOString(), user: toJson(publicUser(done.user)), obligations: obligationsOf(done.user) },
      200,
    );
  });

  app.use('/auth/logout', authenticate(ctx, { pending: true }));
  app.use('/me', authenticate(ctx, { pending: true }));

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
      method: 'post',
      path: '/auth/step-up',
      tags: ['auth'],
      summary:
        'A fresh TOTP code opens this session’s step-up window for 5 minutes. Going live, uploading or revoking a Kraken key, resetting a halt and loosening a risk limit answer 403 STEP_UP_REQUIRED outside it.',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      request: { body: body(stepUpBody) },
      responses: {
        200: json(z.object({ stepUpUntil: z.string() }), 'Step-up window open'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: json(errorSchema, 'Wrong or already used code, or no second factor enrolled'),
        429: throttledResponse,
      },
    }),
    async (c) => {
      const { totp } = c.req.valid('json');
      const user = c.get('user');
      const ip = clientAddress(c, hops);
      const until = await throttledAttempt(c, ctx, throttleKeys(user.email, ip), 'auth.step_up_failed', { ip }, async (tx) => {
        if (!user.totpSecretEnc) return fail('TOTP_NOT_ENROLLED', 'no second factor enrolled (POST /me/totp)', user.id, 403);
        const step = await claimTotp(tx, user.id, openTotp(ctx.masterKey, user.id, user.totpSecretEnc), totp, ctx.clock);
        if (step === null) return fail('BAD_TOTP', 'wrong or already used TOTP code', user.id, 403);
        const stepUpUntil = await openStepUp(tx, c.get('sessionId'), ctx.clock);
        await appendAudit(tx, { action: 'auth.step_up', userId: user.id, details: { ip } }, ctx.clock);
        return { ok: true as const, value: stepUpUntil };
      });
      return c.json({ stepUpUntil: until.toISOString() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags: ['auth'],
      security: [{ bearer: [] }],
      responses: { 200: json(z.object({ user: userSchema, obligations, accounts: z.array(accountSchema) }), 'The current user'), 401: errorResponses[401] },
    }),
    async (c) => {
      const user = c.get('user')!;
      const ids = await accountIdsOf(ctx.db, user);
      const all = await listAccounts(ctx.db);
      const visible = ids === 'all' ? all : all.filter((a) => ids.includes(a.id));
      return c.json({ user: toJson(publicUser(user)), obligations: obligationsOf(user), accounts: visible.map(toJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/me/password',
      tags: ['auth'],
      summary: 'Change your own password (needs the current one); ends your other sessions',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx, { pending: true })] as const,
      request: { body: body(passwordBody) },
      responses: {
        200: json(z.object({ sessionsEnded: z.number().int() }), 'Changed'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: json(errorSchema, 'Wrong current password'),
        429: throttledResponse,
      },
    }),
    async (c) => {
      const { currentPassword, newPassword } = c.req.valid('json');
      const user = c.get('user');
      const ip = clientAddress(c, hops);
      const sessionsEnded = await throttledAttempt(c, ctx, throttleKeys(user.email, ip), 'user.password_change_failed', { ip }, async (tx) => {
        if (!user.passwordHash || !(await verifyPassword(user.passwordHash, currentPassword))) return fail('WRONG_PASSWORD', 'the current password is wrong', user.id, 403);
        try {
          return { ok: true as const, value: await changePassword(tx, user, newPassword, c.get('sessionId'), ctx.clock) };
        } catch (err) {
          if (err instanceof UserRuleError) throw new HttpError(400, err.code, err.message);
          throw err;
        }
      });
      return c.json({ sessionsEnded }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/me/sessions',
      tags: ['auth'],
      summary: 'End all your other sessions (this one stays)',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      responses: { 200: json(z.object({ sessionsEnded: z.number().int() }), 'Ended'), 401: errorResponses[401], 403: errorResponses[403] },
    }),
    async (c) => {
      const user = c.get('user');
      const n = await ctx.db.transaction((tx) => endSessions(tx, user.id, { actor: user.id, clock: ctx.clock }, c.get('sessionId')));
      return c.json({ sessionsEnded: n }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/me/totp',
      tags: ['auth'],
      summary: 'Start (re-)enrolling a second factor: a new secret, in force once POST /me/totp/confirm accepts a code from it. Replacing one needs step-up.',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx, { pending: true })] as const,
      responses: {
        200: json(z.object({ totpUri: z.string().openapi({ description: 'otpauth:// URI of the new secret, shown once' }) }), 'Enrol this secret, then confirm'),
        401: errorResponses[401],
        403: json(errorSchema, 'Step-up required to replace an enrolled second factor'),
      },
    }),
    async (c) => {
      const user = c.get('user');
      if (user.totpSecretEnc) assertSteppedUp(c, ctx, 'replacing your second factor');
      const totpUri = await ctx.db.transaction((tx) => startTotpEnrolment(tx, user, ctx.masterKey, ctx.clock));
      return c.json({ totpUri }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/me/totp/confirm',
      tags: ['auth'],
      summary: 'Confirm the new second factor with a code from it; it replaces the old one',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx, { pending: true })] as const,
      request: { body: body(stepUpBody) },
      responses: {
        200: json(z.object({ user: userSchema }), 'Enrolled'),
        400: json(errorSchema, 'Wrong code, or no enrolment started'),
        401: errorResponses[401],
      },
    }),
    async (c) => {
      const { totp } = c.req.valid('json');
      const user = c.get('user');
      const enrolled = await ctx.db.transaction((tx) => confirmTotpEnrolment(tx, user.id, totp, ctx.masterKey, ctx.clock));
      if (!enrolled) throw new HttpError(400, 'BAD_TOTP', 'wrong or already used code, or no enrolment started (POST /me/totp)');
      return c.json({ user: toJson(enrolled) }, 200);
    },
  );
}
