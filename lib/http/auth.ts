import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { Context } from 'hono';
import { findAccount, type Account } from '../accounts/accounts.ts';
import { resolveSession } from '../accounts/sessions.ts';
import { roleOn, type Role } from '../accounts/users.ts';
import type { AppContext } from '../context.ts';
import type { AetherEnv } from './app.ts';
import { HttpError } from './errors.ts';

export const SESSION_COOKIE = 'aether_session';

export interface AuthedEnv extends AetherEnv {
  Variables: AetherEnv['Variables'] & { user: NonNullable<AetherEnv['Variables']['user']>; sessionId: string; account?: Account; accountRole?: Role };
}

function bearer(c: Context): string | undefined {
  const h = c.req.header('authorization');
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return getCookie(c, SESSION_COOKIE);
}

/** 401 unless the request carries a live session token (Authorization: Bearer … or the session cookie). */
export const authenticate = (ctx: AppContext) =>
  createMiddleware<AuthedEnv>(async (c, next) => {
    const token = bearer(c);
    const session = token ? await resolveSession(ctx.db, token, ctx.clock) : null;
    if (!session) throw new HttpError(401, 'UNAUTHENTICATED', 'a valid session token is required');
    c.set('user', session.user);
    c.set('sessionId', session.sessionId);
    await next();
  });

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
