import { createRoute, z } from '@hono/zod-openapi';
import { findAccount } from '../../../lib/accounts/accounts.ts';
import { accountIdsOf, findUserByEmail } from '../../../lib/accounts/users.ts';
import { AUDIT_ALGS, anchorLogPath, auditKey, listAudit, verifyAuditChain } from '../../../lib/audit/index.ts';
import type { AppContext } from '../../../lib/context.ts';
import type { AetherApp } from '../../../lib/http/app.ts';
import { authenticate, requireRole } from '../../../lib/http/auth.ts';
import { errorResponses, errorSchema, HttpError } from '../../../lib/http/errors.ts';
import { accountRef, instantOf, isoDayOrTime, json } from './schemas.ts';

const auditRowSchema = z
  .object({
    id: z.number().int(),
    ts: z.string(),
    userId: z.uuid().nullable(),
    userEmail: z.string().nullable().openapi({ description: "the actor's email (null: no actor, e.g. a job)" }),
    accountId: z.uuid().nullable(),
    accountSlug: z.string().nullable().openapi({ description: 'the account the row is about (null: a global event)' }),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
    alg: z.enum(AUDIT_ALGS).openapi({ description: "How `hash` was made: 'hmac-sha256' under the audit key, or 'sha256' for rows from before the chain was keyed" }),
  })
  .openapi('AuditRow');

const auditQuery = z
  .object({
    account: accountRef.optional().openapi({ description: 'account slug or id', example: 'company' }),
    user: z
      .string()
      .max(254)
      .refine((v) => z.uuid().safeParse(v).success || z.email().safeParse(v).success, 'must be a user id or email')
      .optional()
      .openapi({ description: "the actor's id or email" }),
    action: z
      .string()
      .regex(/^[a-z0-9_.-]{1,64}$/)
      .optional()
      .openapi({ description: 'an action (settings.risk), or a family ending in a dot (settings.)' }),
    from: isoDayOrTime.optional().openapi({ description: 'inclusive; a day means its UTC midnight' }),
    to: isoDayOrTime.optional().openapi({ description: 'inclusive; a day means its UTC midnight' }),
    before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const verifySchema = z
  .object({
    ok: z.boolean(),
    rows: z.number().int(),
    seq: z.number().int().optional().openapi({ description: 'The head row' }),
    head: z.string().optional().openapi({ description: "The head row's hash" }),
    keyedFrom: z.number().int().nullable().optional().openapi({ description: 'The first HMAC-keyed row (earlier rows are plain SHA-256, from before the chain was keyed)' }),
    anchors: z.number().int().optional().openapi({ description: 'Anchored heads checked' }),
    anchorLog: z.string().nullable(),
    badId: z.number().int().optional(),
    reason: z.string().optional(),
    warnings: z.array(z.string()),
  })
  .openapi('AuditVerify');

export function registerAudit(app: AetherApp, ctx: AppContext): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags: ['audit'],
      summary: 'The audit trail, newest first, filtered by account, actor, action and time (viewers see their accounts only)',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx)] as const,
      request: { query: auditQuery },
      responses: {
        200: json(z.object({ rows: z.array(auditRowSchema), nextBefore: z.number().int().nullable() }), 'A page of audit rows'),
        400: errorResponses[400],
        401: errorResponses[401],
        403: errorResponses[403],
        404: json(errorSchema, 'No such account (ACCOUNT_NOT_FOUND)'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const from = q.from ? instantOf(q.from) : undefined;
      const to = q.to ? instantOf(q.to) : undefined;
      if (from && to && from > to) throw new HttpError(400, 'BAD_RANGE', 'from must not be after to');
      const ids = await accountIdsOf(ctx.db, c.get('user')!);
      const account = q.account ? await findAccount(ctx.db, q.account) : null;
      if (q.account && !account) throw new HttpError(404, 'ACCOUNT_NOT_FOUND', `no account ${q.account}`);
      if (account && ids !== 'all' && !ids.includes(account.id)) throw new HttpError(403, 'FORBIDDEN', 'no access to this account');
      const userId = q.user?.includes('@') ? (await findUserByEmail(ctx.db, q.user))?.id : q.user;
      // An unknown actor has no rows: an empty page, as for an unknown id.
      if (q.user && !userId) return c.json({ rows: [], nextBefore: null }, 200);
      const page = await listAudit(ctx.db, {
        accountId: account?.id,
        accountIds: ids === 'all' ? undefined : ids,
        userId,
        action: q.action,
        from,
        to,
        before: q.before,
        limit: q.limit,
      });
      return c.json(
        { rows: page.rows.map((r) => ({ ...r, ts: r.ts.toISOString(), details: r.details as Record<string, unknown> })), nextBefore: page.nextBefore },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/verify',
      tags: ['audit'],
      summary: 'Recompute the keyed hash chain and check it against the anchor log; names the first bad row',
      security: [{ bearer: [] }],
      middleware: [authenticate(ctx), requireRole('admin')] as const,
      responses: {
        200: json(verifySchema, 'The chain holds'),
        401: errorResponses[401],
        403: errorResponses[403],
        409: json(verifySchema, 'The chain is broken'),
      },
    }),
    async (c) => {
      const r = await verifyAuditChain(ctx.db, auditKey(), anchorLogPath(ctx.config));
      return r.ok ? c.json(r, 200) : c.json(r, 409);
    },
  );
}
