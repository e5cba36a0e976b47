import { z } from '@hono/zod-openapi';

export const userSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    name: z.string(),
    role: z.enum(['admin', 'viewer']),
    totpEnrolled: z.boolean(),
    mustChangePassword: z.boolean(),
    disabled: z.boolean(),
    invitePending: z.boolean().openapi({ description: 'an invited admin who has not set a password yet' }),
    createdAt: z.string(),
  })
  .openapi('User');

export const accountSchema = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), kind: z.enum(['company', 'director', 'other']), createdAt: z.string() })
  .openapi('Account');

export const accountParam = z.object({
  account: z.string().min(1).max(64).openapi({ param: { name: 'account', in: 'path' }, description: 'account id or slug', example: 'company' }),
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
export const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

export const toJson = <T extends { createdAt: Date }>(r: T) => ({ ...r, createdAt: r.createdAt.toISOString() });
