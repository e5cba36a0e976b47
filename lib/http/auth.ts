import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import { findAccount, type Account } from '../accounts/accounts.ts';
import { resolveSession } from '../accounts/sessions.ts';
import { obligationsOf, roleOn, type Role } from '../accounts/users.ts';
import type { Config } from '../config.ts';
import type { AppContext } from '../context.ts';
import type { AetherEnv } from './app.ts';
import { errorSchema, HttpError } from './errors.ts';

export interface AuthedEnv extends AetherEnv {
  Variables: AetherEnv['Variables'] & {
    user: NonNullable<AetherEnv['Variables']['user']>;
    sessionId: string;
    stepUpUntil: Date | null;
    account?: Account;
    accountRole?: Role;
  };
}

/**
 * The session cookie. In production (cluster mode, or TLS here) it is `__Host-aether_session`:
 * Secure, so browsers send it over HTTPS only, and the prefix makes browsers refuse it unless it is
 * Secure, host-only and Path=/ (no subdomain or plain-http page can plant or shadow it). The embedded
 * runtime on plain http://127.0.0.1 cannot use either (Safari drops Secure cookies over http, and the
 * prefix needs Secure), so there it is `aether_session` without Secure; both are HttpOnly,
 * SameSite=Strict, Path=/.
 */
export function sessionCookie(config: Pick<Config, 'mode' | 'TLS_CERT'>): { name: string; secure: boolean } {
  const secure = config.mode === 'cluster' || Boolean(config.TLS_CERT);
  return { name: secure ? '__Host-aether_session' : 'aether_session', secure };
}

/**
 * The client's address: with TRUSTED_PROXY_HOPS = n, the entry the outermost trusted proxy appended
 * to X-Forwarded-For, n from the right (a client can prepend entries but not choose those); with 0
 * the header is ignored — anyone could write it — and the socket's peer is the client.
 */
export function clientAddress(c: Context, hops: number): string {
  if (hops > 0) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').map((s) => s.trim()).filter(Boolean);
    if (forwarded?.length) return forwarded[Math.max(0, forwarded.length - hops)]!;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

function sessionToken(c: Context, cookieName: string): string | undefined {
  const h = c.req.header('authorization');
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return getCookie(c, cookieName);
}

/**
 * 401 unless the request carries a live session token (Authorization: Bearer … or the session
 * cookie). A user with an obligation (a password an admin reset, an admin without a second factor)
 * gets 403 on every route but the few that fulfil it, which pass `{ pending: true }`.
 */
export const authenticate = (ctx: AppContext, opts: { pending?: boolean } = {}) => {
  const cookie = sessionCookie(ctx.config).name;
  return createMiddleware<AuthedEnv>(async (c, next) => {
    const token = sessionToken(c, cookie);
    const session = token ? await resolveSession(ctx.db, token, ctx.clock) : null;
    if (!session) throw new HttpError(401, 'UNAUTHENTICATED', 'a valid session token is required');
    const [owed] = obligationsOf(session.user);
    if (owed && !opts.pending)
      throw new HttpError(403, owed, owed === 'PASSWORD_CHANGE_REQUIRED' ? 'change your password first (POST /me/password)' : 'enrol a second factor first (POST /me/totp, then POST /me/totp/confirm)');
    c.set('user', session.user);
    c.set('sessionId', session.sessionId);
    c.set('stepUpUntil', session.stepUpUntil);
    await next();
  });
};

/** Whether the session gave a fresh TOTP code recently enough for a step-up action. */
export const steppedUp = (c: Context<AuthedEnv>, ctx: Pick<AppContext, 'clock'>): boolean => (c.get('stepUpUntil')?.getTime() ?? 0) > ctx.clock.now();

/** 403 STEP_UP_REQUIRED unless the session is stepped up; for handlers whose need depends on the body. */
export function assertSteppedUp(c: Context<AuthedEnv>, ctx: Pick<AppContext, 'clock'>, what: string): void {
  if (!steppedUp(c, ctx))
    throw new HttpError(403, 'STEP_UP_REQUIRED', `${what} needs a fresh TOTP code: POST /auth/step-up {"totp": "123456"}, then repeat this request within 5 minutes`);
}

/**
 * Step-up: the action needs a TOTP code given in the last five minutes (at login or at POST
 * /auth/step-up), so a stolen session token alone cannot move money or loosen the guards. After
 * `authenticate`.
 */
export const requireStepUp = (ctx: Pick<AppContext, 'clock'>, what = 'this action') =>
  createMiddleware<AuthedEnv>(async (c, next) => {
    assertSteppedUp(c, ctx, what);
    await next();
  });

/** The 403 a step-up route documents in OpenAPI. */
export const stepUpForbidden = {
  description: 'Not an admin of this account (FORBIDDEN), or no TOTP code in the last five minutes (STEP_UP_REQUIRED: POST /auth/step-up, then repeat)',
  content: { 'application/json': { schema: errorSchema } },
} as const;

const rank: Record<Role, number> = { viewer: 1, admin: 2 };

/** 403 unless the user's global role is at least `role` (admins are the directors). */
export const requireRole = (role: Role) =>
  createMiddleware<AuthedEnv>(async (c, next) => {
    if (rank[c.get('user').role] < rank[role]) throw new HttpError(403, 'FORBIDDEN', `this action needs the ${role} role`);
    await next();
  });

/**
 * Resolves the account named by the `account` path parameter (id or slug) and checks the user's role
 * on it: 404 for an unknown account, 403 for one the user may not see or may not change.
 */
export const requireAccountAccess = (ctx: AppContext, min: Role) =>
  createMiddleware<AuthedEnv>(async (c, next) => {
    const ref = c.req.param('account');
    if (!ref) throw new HttpError(400, 'BAD_REQUEST', 'missing account');
    const account = await findAccount(ctx.db, ref);
    if (!account) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', `no account ${ref}`);
    const role = await roleOn(ctx.db, c.get('user'), account.id);
    if (!role) throw new HttpError(403, 'FORBIDDEN', 'no access to this account');
    if (rank[role] < rank[min]) throw new HttpError(403, 'FORBIDDEN', `this action needs the ${min} role on ${account.slug}`);
    c.set('account', account);
    c.set('accountRole', role);
    await next();
  });
