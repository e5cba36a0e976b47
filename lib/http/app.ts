import { randomUUID } from 'node:crypto';
import { OpenAPIHono, z, type Hook } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Env } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppContext } from '../context.ts';
import type { User } from '../accounts/users.ts';
import { pgErrorCode } from '../db/client.ts';
import { errorBody, errorSchema, HttpError } from './errors.ts';
import { hygiene, paramsFirst } from './hygiene.ts';
import { historySchema, marketDataSchema, marketHealth } from './market-health.ts';
import { metricsHandler } from './metrics-token.ts';
import { httpDuration } from './metrics.ts';

export interface AetherEnv extends Env {
  Variables: { requestId: string; user?: User; sessionId?: string };
}
export type AetherApp = OpenAPIHono<AetherEnv>;

export { errorBody };

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
    replay: z.boolean(),
    marketData: marketDataSchema,
    history: historySchema.optional(),
  })
  .openapi('Health');

const livenessSchema = z.object({ status: z.literal('ok'), function: z.string() }).openapi('Liveness');
const readinessSchema = z
  .object({ status: z.enum(['ready', 'not-ready']), function: z.string(), database: z.enum(['ok', 'error']), queue: z.enum(['ok', 'error']) })
  .openapi('Readiness');

/** The dependencies a function cannot work without: its database and its queue backend. */
async function dependencies(ctx: AppContext): Promise<{ database: 'ok' | 'error'; queue: 'ok' | 'error' }> {
  const [database, queue] = await Promise.all([
    ctx.db.execute(sql`select 1`).then(() => 'ok' as const, () => 'error' as const),
    ctx.queue.ping().then(() => 'ok' as const, () => 'error' as const),
  ]);
  return { database, queue };
}

/**
 * The Hono app of one function with Aether's conventions: request ids, JSON logs, the error shape,
 * an HTTP histogram, HTTP hygiene (security headers, the Host allow-list, a body limit, no control
 * characters in URLs or JSON text: ./hygiene.ts), path and query parameters validated before a
 * route's middleware, `/healthz`, `/livez` (the process), `/readyz` (its dependencies) and `/metrics` (bearer token).
 */
export function createFunctionApp(name: string, ctx: AppContext): AetherApp {
  const app = new OpenAPIHono<AetherEnv>({ defaultHook: validationHook });
  const log = ctx.logger.child({ function: name });

  // A route's middleware (authentication, the account lookup) reads the database before
  // zod-openapi's validators run: judge path and query parameters first, so a bad one is a 400
  // that reached no I/O.
  const register = app.openapi;
  app.openapi = ((route, handler, hook) =>
    register({ ...route, middleware: [paramsFirst(route.request), ...[route.middleware ?? []].flat()] }, handler, hook)) as typeof app.openapi;

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
  app.use(...hygiene(ctx.config));

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
    summary: 'Dependencies (database, queue), market-data freshness (stale: degraded, still 200) and the history fill',
    responses: {
      200: { description: 'Healthy', content: { 'application/json': { schema: healthSchema } } },
      503: { description: 'A dependency is down', content: { 'application/json': { schema: healthSchema } } },
    },
  });
  // Liveness is the process alone: a database or Redis blip must not restart every function at once
  // (the kubelet restarts on a failed liveness probe); readiness takes the pod out of the Service instead.
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/livez',
    tags: ['ops'],
    summary: 'Liveness: the process answers (no dependency is checked)',
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: livenessSchema } } } },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['ops'],
    summary: 'Readiness: the database and the queue answer',
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: readinessSchema } } },
      503: { description: 'A dependency is down', content: { 'application/json': { schema: readinessSchema } } },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['ops'],
    summary: 'Prometheus metrics (per-account equity, drawdown, halted state): the metrics bearer token only',
    security: [{ metricsToken: [] }],
    responses: {
      200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: z.string() } } },
      401: { description: 'No or a wrong metrics token', content: { 'application/json': { schema: errorSchema } } },
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'metricsToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'AETHER_METRICS_TOKEN (embedded: $AETHER_HOME/metrics.token; cluster: the aether-metrics-token secret)',
  });

  app.get('/healthz', async (c) => {
    const [{ database, queue }, market] = await Promise.all([dependencies(ctx), marketHealth(ctx)]);
    const ok = database === 'ok' && queue === 'ok';
    // Stale market data degrades the status but not the code: a restart would not bring candles.
    return c.json(
      {
        status: ok && market.marketData.state !== 'stale' ? 'ok' : 'degraded',
        function: name,
        mode: ctx.config.mode,
        database,
        databaseDriver: ctx.config.databaseDriver,
        queue,
        queueBackend: ctx.queue.backend,
        timescale: ctx.timescale ? 'yes' : 'no',
        version: ctx.version,
        ...market,
      },
      ok ? 200 : 503,
    );
  });

  app.get('/livez', (c) => c.json({ status: 'ok' as const, function: name }, 200));
  app.get('/readyz', async (c) => {
    const deps = await dependencies(ctx);
    const ready = deps.database === 'ok' && deps.queue === 'ok';
    return c.json({ status: ready ? ('ready' as const) : ('not-ready' as const), function: name, ...deps }, ready ? 200 : 503);
  });

  app.get('/metrics', metricsHandler(ctx.config.AETHER_METRICS_TOKEN));
  return app;
}
