import { createRoute, z } from '@hono/zod-openapi';
import { createUser, listUsers, userInputSchema, UserExistsError } from '../../../lib/accounts/users.ts';
import type { AppContext } from '../../../lib/context.ts';
import { pgErrorCode } from '../../../lib/db/client.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { body, json, toJson, userSchema } from './schemas.ts';

export const createdUserSchema = z
  .object({ user: userSchema, totpUri: z.string().nullable().openapi({ description: 'otpauth:// URI, shown once for enrolment' }) })
  .openapi('CreatedUser');

export function registerUsers(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      tags: ['users'],
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      responses: { 200: json(z.object({ users: z.array(userSchema) }), 'Users'), 401: errorResponses[401], 403: errorResponses[403] },
    }),
    async (c) => c.json({ users: (await listUsers(ctx.db)).map(toJson) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      tags: ['users'],
      summary: 'Create a user (admin). Admins get a TOTP secret; its URI is returned once.',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      request: { body: body(userInputSchema) },
      responses: {
        201: json(createdUserSchema, 'Created'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        409: json(errorSchema, 'Email taken'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json');
      try {
        const created = await ctx.db.transaction((tx) =>
          createUser(tx, input, { actor: c.get('user')!.id, masterKey: ctx.masterKey, clock: ctx.clock }),
        );
        return c.json({ user: toJson(created.user), totpUri: created.totpUri }, 201);
      } catch (err) {
        if (err instanceof UserExistsError) throw new HttpError(409, 'USER_EXISTS', err.message);
        // A membership naming an account that does not exist violates the foreign key.
        if (pgErrorCode(err) === '23503') throw new HttpError(400, 'UNKNOWN_ACCOUNT', 'accountIds names an account that does not exist');
        throw err;
      }
    },
  );
}
