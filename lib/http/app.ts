import { randomUUID } from 'node:crypto';
import { OpenAPIHono, z, type Hook } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Context, Env } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppContext } from '../context.ts';
import type { User } from '../accounts/users.ts';
import { pgErrorCode } from '../db/client.ts';
import { HttpError, type ErrorBody } from './errors.ts';
import { httpDuration, registry } from './metrics.ts';

export interface AetherEnv extends Env {
  Variables: { requestId: string; user?: User; sessionId?: string };
}
export type AetherApp = OpenAPIHono<AetherEnv>;

export const errorBody = (c: Context<AetherEnv>, code: string, message: string): ErrorBody => ({
  code,
  message,
  requestId: c.get('requestId') ?? 'unknown',
});

/**
 * What of an unhandled error goes to the log. A failed drizzle query's message embeds the statement's
 * values (password hashes, sealed secrets, emails) and hides the cause: log the driver's error and the
 * parameterised statement instead.
 */
export function loggableError(err: unknown): unknown {
  if (!(err instanceof DrizzleQueryError)) return err;
  return { type: 'DrizzleQueryError', message: err.cause?.message ?? 'query failed', code: pgErrorCode(err), query: err.query, stack: err.cause?.stack };
}

/** One validation hook for every route: zod issues become a 400 in the error shape. */
export const validationHook: Hook<unknown, AetherEnv, string, unknown> = (result, c) => {
  if (result.success) return;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  return c.json(errorBody(c, 'VALIDATION_FAILED', issues), 400);
};

const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    function: z.string(),
    mode: z.enum(['embedded', 'cluster']),
    database: z.enum(['ok', 'error']),
    databaseDriver: z.enum(['pg', 'neon']),
    queue: z.enum(['ok', 'error']),
    queueBackend: z.enum(['redis', 'postgres']),
    timescale: z.enum(['yes', 'no']),
    version: z.string(),
  })
  .openapi('Health');

/**
 * The Hono app of one function with Aether's conventions: request ids, JSON logs, the error shape,
 * an HTTP histogram, `/healthz` and `/metrics`.
 */
export function createFunctionApp(name: string, ctx: AppContext): AetherApp {
  const app = new OpenAPIHono<AetherEnv>({ defaultHook: validationHook });
  const log = ctx.logger.child({ function: name });

  app.use(async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w-]{1,64}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header('x-request-id', requestId);
    const start = performance.now();
    await next();
    const seconds = (performance.now() - start) / 1000;
    const route = c.req.routePath || 'unmatched';
    httpDuration.observe({ function: name, method: c.req.method, route, status: String(c.res.status) }, seconds);
    log.debug({ requestId, method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000) }, 'request');
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json(errorBody(c, err.code, err.message), err.status);
    if (err instanceof HTTPException) {
      const code = err.status === 400 ? 'BAD_REQUEST' : `HTTP_${err.status}`;
      return c.json(errorBody(c, code, err.message || 'bad request'), err.status);
    }
    log.error({ err: loggableError(err), requestId: c.get('requestId') }, 'unhandled error');
    return c.json(errorBody(c, 'INTERNAL', 'internal error'), 500);
  });
  app.notFound((c) => c.json(errorBody(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));

  // Documented like every other route, so a route table built from the OpenAPI document covers them.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['ops'],
    summary: 'Liveness and dependencies (database, queue)',
    responses: {
      200: { description: 'Healthy', content: { 'application/json': { schema: healthSchema } } },
      503: { description: 'A dependency is down', content: { 'application/json': { schema: healthSchema } } },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['ops'],
    summary: 'Prometheus metrics',
    responses: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: z.string() } } } },
  });

  app.get('/healthz', async (c) => {
    const [database, queue] = await Promise.all([
      ctx.db.execute(sql`select 1`).then(() => 'ok' as const, () => 'error' as const),
      ctx.queue.ping().then(() => 'ok' as const, () => 'error' as const),
    ]);
    const ok = database === 'ok' && queue === 'ok';
    return c.json(
      {
        status: ok ? 'ok' : 'degraded',
        function: name,
        mode: ctx.config.mode,
        database,
        databaseDriver: ctx.config.databaseDriver,
        queue,
        queueBackend: ctx.queue.backend,
        timescale: ctx.timescale ? 'yes' : 'no',
        version: ctx.version,
      },
      ok ? 200 : 503,
    );
  });

  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  return app;
}
