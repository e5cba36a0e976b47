import { createRoute, z } from '@hono/zod-openapi';
import type { AppContext } from '../context.ts';
import { withDeadline } from '../deadline.ts';
import { jobSchemas, type JobKind } from '../queue/jobs.ts';
import { createFunctionApp, type AetherApp } from './app.ts';
import { errorResponses, errorSchema } from './errors.ts';

export type JobHandler<K extends JobKind> = (payload: z.infer<(typeof jobSchemas)[K]>, meta: { jobId: string }) => Promise<Record<string, unknown>>;

/**
 * A queue-invoked function: `POST /` with the job payload (validated by the queue's schema). A
 * function whose work arrives in a later issue passes no handler and answers 501, never a fake success.
 */
export interface JobFunctionOptions {
  /** Real time the job may take, external calls and waits included (lib/deadline.ts); default 100 s. */
  budgetMs?: number;
}

export function createJobFunction<K extends JobKind>(name: string, kind: K, ctx: AppContext, handler?: JobHandler<K>, opts: JobFunctionOptions = {}): AetherApp {
  const app = createFunctionApp(name, ctx);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['jobs'],
      summary: `Run one ${kind} job`,
      // Not required: OpenFaaS' cron-connector POSTs an empty body, which means `{}`.
      request: { body: { required: false, content: { 'application/json': { schema: jobSchemas[kind] as z.ZodType } } } },
      responses: {
        200: { description: 'Done', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
        400: errorResponses[400],
        415: { description: 'Not JSON', content: { 'application/json': { schema: errorSchema } } },
        404: { description: 'Unknown account', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'Another job of the account is running: retry shortly', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'A bar that may not be traded (not closed yet, or off the interval grid)', content: { 'application/json': { schema: errorSchema } } },
        501: { description: 'Not implemented yet', content: { 'application/json': { schema: errorSchema } } },
        503: { description: 'The exchange or a dependency did not answer in time: retry', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      if (!handler) return c.json({ code: 'NOT_IMPLEMENTED', message: `${name} does not do work yet`, requestId: c.get('requestId') }, 501);
      const payload = c.req.valid('json') as z.infer<(typeof jobSchemas)[K]>;
      // Every wait and retry inside the job ends with its budget, or with a shutdown (abortAllBudgets).
      const result = await withDeadline(opts.budgetMs ?? 100_000, () => handler(payload, { jobId: c.get('requestId') }), c.req.raw.signal);
      return c.json(result, 200);
    },
  );
  return app;
}
