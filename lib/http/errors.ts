import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AetherEnv } from './app.ts';

/** The one error shape every route answers with. */
export const errorSchema = z
  .object({
    code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
    message: z.string(),
    requestId: z.string(),
  })
  .openapi('Error');
export type ErrorBody = z.infer<typeof errorSchema>;

export const errorBody = (c: Context<AetherEnv>, code: string, message: string): ErrorBody => ({
  code,
  message,
  requestId: c.get('requestId') ?? 'unknown',
});

/** Thrown by handlers for an expected refusal; the error middleware renders it in the error shape. */
export class HttpError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 421 | 422 | 429 | 501 | 503,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const errorResponses = {
  400: { description: 'Malformed or invalid request', content: { 'application/json': { schema: errorSchema } } },
  401: { description: 'Not authenticated', content: { 'application/json': { schema: errorSchema } } },
  403: { description: 'Not allowed for this role or account', content: { 'application/json': { schema: errorSchema } } },
} as const;
