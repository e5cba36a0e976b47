import { createRoute, z } from '@hono/zod-openapi';
import {
  accountIdsFor,
  createUser,
  endSessions,
  inviteAdmin,
  listUsers,
  passwordSchema,
  resetPassword,
  resetTotp,
  setDisabled,
  setMemberships,
  userInputSchema,
  UnknownAccountError,
  UserExistsError,
  UserNotFoundError,
  UserRuleError,
  viewerAccounts,
  type Actor,
} from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import { pgErrorCode, type Tx } from '../../../lib/db/client.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { accountRef, body, json, toJson, userSchema } from './schemas.ts';

export const createdUserSchema = z
  .object({ user: userSchema, totpUri: z.string().nullable().openapi({ description: 'otpauth:// URI, shown once for enrolment' }) })
  .openapi('CreatedUser');

/** Accounts named by slug or id, as everywhere else. */
const accountRefs = z
  .array(accountRef.openapi({ example: 'company' }))
  .max(100)
  .openapi({ description: 'account slugs or ids' });

/** An admin is invited (no password, no TOTP secret chosen or seen by the inviter); a viewer is created with a password. */
const newUserBody = z
  .discriminatedUnion('role', [
    z.object({ role: z.literal('admin'), email: userInputSchema.shape.email, name: userInputSchema.shape.name }).strict(),
    userInputSchema.extend({ role: z.literal('viewer'), accountIds: accountRefs.default([]) }).strict(),
  ])
  .openapi('NewUser');

const listedUser = userSchema.extend({ accounts: z.array(z.string()).openapi({ description: "a viewer's accounts (slugs); empty for admins, who see every account" }) }).openapi('ListedUser');
const memberships = z
  .object({ accountIds: z.array(z.uuid()), accounts: z.array(z.string()).openapi({ description: 'the same accounts by slug' }) })
  .openapi('ViewerAccounts');

const newUserReply = z
  .object({
    user: userSchema,
    invite: z
      .object({ token: z.string(), expiresAt: z.string() })
      .nullable()
      .openapi({ description: 'admins: the single-use invite token (shown once) the invitee redeems at POST /onboarding/invite' }),
  })
  .openapi('NewUserReply');

const userParam = z.object({ id: z.uuid().max(36).openapi({ param: { name: 'id', in: 'path' }, description: 'user id', example: '00000000-0000-4000-8000-000000000000' }) });
const sessionsEnded = z.object({ sessionsEnded: z.number().int() });
const notFound = json(errorSchema, 'No such user');
const refused = json(errorSchema, 'Refused by a rule: the last admin (LAST_ADMIN), your own account (OWN_ACCOUNT), not a viewer (NOT_A_VIEWER), invite pending (INVITE_PENDING)');

export function registerUsers(app: AetherApp, ctx: AppContext): void {
  const adminOnly = [authenticate(ctx), requireRole('admin')];
  const secured = { tags: ['users'], security: [{ bearer: [] }], middleware: adminOnly };
  const std = { 400: errorResponses[400], 401: errorResponses[401], 403: errorResponses[403], 404: notFound, 409: refused };

  /** One transaction per change; the domain's refusals become 404/409, anything else stays a 500. */
  const change = async <T>(fn: (tx: Tx, actor: Actor) => Promise<T>, actorId: string): Promise<T> => {
    try {
      return await ctx.db.transaction((tx) => fn(tx, { actor: actorId, clock: ctx.clock }));
    } catch (err) {
      if (err instanceof UserNotFoundError) throw new HttpError(404, 'USER_NOT_FOUND', err.message);
      if (err instanceof UserRuleError) throw new HttpError(409, err.code, err.message);
      if (err instanceof UserExistsError) throw new HttpError(409, 'USER_EXISTS', err.message);
      if (err instanceof UnknownAccountError) throw new HttpError(400, 'UNKNOWN_ACCOUNT', err.message);
      // A membership naming an account that does not exist violates the foreign key.
      if (pgErrorCode(err) === '23503') throw new HttpError(400, 'UNKNOWN_ACCOUNT', 'accountIds names an account that does not exist');
      throw err;
    }
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      ...secured,
      summary: 'Users, with the accounts each viewer is assigned to',
      responses: { 200: json(z.object({ users: z.array(listedUser) }), 'Users'), 401: errorResponses[401], 403: errorResponses[403] },
    }),
    async (c) => {
      const list = await listUsers(ctx.db);
      const assigned = await viewerAccounts(ctx.db, list.map((u) => u.id));
      return c.json({ users: list.map((u) => ({ ...toJson(u), accounts: assigned.get(u.id) ?? [] })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      ...secured,
      summary: 'Create a viewer (with a password) or invite an admin (an invite token, single use, 72 h; the invitee sets the password and enrols TOTP)',
      request: { body: body(newUserBody) },
      responses: { 201: json(newUserReply, 'Created'), ...std, 409: json(errorSchema, 'Email taken') },
    }),
    async (c) => {
      const input = c.req.valid('json');
      const actor = c.get('user')!.id;
      if (input.role === 'admin') {
        const inv = await change((tx, a) => inviteAdmin(tx, input, a), actor);
        return c.json({ user: toJson(inv.user), invite: { token: inv.inviteToken, expiresAt: inv.expiresAt.toISOString() } }, 201);
      }
      const created = await change(
        async (tx) => createUser(tx, { ...input, accountIds: await accountIdsFor(tx, input.accountIds) }, { actor, masterKey: ctx.masterKey, clock: ctx.clock }),
        actor,
      );
      return c.json({ user: toJson(created.user), invite: null }, 201);
    },
  );

  for (const disabled of [true, false]) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/users/{id}/${disabled ? 'disable' : 'enable'}`,
        ...secured,
        summary: disabled ? 'Disable a user: login refused, every session ends (the last enabled admin cannot be disabled)' : 'Enable a disabled user',
        request: { params: userParam },
        responses: { 200: json(z.object({ user: userSchema }), disabled ? 'Disabled' : 'Enabled'), ...std },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const user = await change((tx, a) => setDisabled(tx, id, disabled, a), c.get('user')!.id);
        return c.json({ user: toJson(user) }, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users/{id}/password',
      ...secured,
      summary: "Reset another user's password to a temporary one: their sessions end and they must change it at next login",
      request: { params: userParam, body: body(z.object({ password: passwordSchema }).strict().openapi('PasswordReset')) },
      responses: { 200: json(z.object({ user: userSchema }), 'Reset'), ...std },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { password } = c.req.valid('json');
      const user = await change((tx, a) => resetPassword(tx, id, password, a), c.get('user')!.id);
      return c.json({ user: toJson(user) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/users/{id}/sessions',
      ...secured,
      summary: "End all of a user's sessions",
      request: { params: userParam },
      responses: { 200: json(sessionsEnded, 'Ended'), ...std },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const n = await change((tx, a) => endSessions(tx, id, a), c.get('user')!.id);
      return c.json({ sessionsEnded: n }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/users/{id}/totp',
      ...secured,
      summary: "Reset another user's second factor (a lost phone): their sessions end and they enrol again at next login",
      request: { params: userParam },
      responses: { 200: json(z.object({ user: userSchema }), 'Reset'), ...std },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = await change((tx, a) => resetTotp(tx, id, a), c.get('user')!.id);
      return c.json({ user: toJson(user) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/users/{id}/accounts',
      ...secured,
      summary: "Assign a viewer to accounts: replaces the viewer's accounts (audited; the same set again changes nothing)",
      request: { params: userParam, body: body(z.object({ accountIds: accountRefs }).strict().openapi('Memberships')) },
      responses: { 200: json(memberships, 'The viewer’s accounts now'), ...std },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { accountIds } = c.req.valid('json');
      const after = await change(async (tx, a) => setMemberships(tx, id, await accountIdsFor(tx, accountIds), a), c.get('user')!.id);
      const slugs = await viewerAccounts(ctx.db, [id]);
      return c.json({ accountIds: after, accounts: slugs.get(id) ?? [] }, 200);
    },
  );
}
