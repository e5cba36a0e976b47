import { createRoute, z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppContext } from '../context.ts';
import { withDeadline } from '../deadline.ts';
import { jobStarted } from '../runtime/idle-gc.ts';
import { jobSchemas, type JobKind } from '../queue/jobs.ts';
import { createFunctionApp, errorBody, type AetherApp, type AetherEnv } from './app.ts';
import { errorResponses, errorSchema, HttpError } from './errors.ts';
import { signatureClaims } from './job-replay.ts';
import { FUNCTION_JOB_OUTCOMES, functionJobDuration, functionJobLastSuccess, functionJobsTotal } from './metrics.ts';
import { jobFunctionPath, NONCE_HEADER, SIGNATURE_HEADER, SIGNATURE_WINDOW_MS, TIMESTAMP_HEADER, verifyJob } from './job-signature.ts';

export type JobHandler<K extends JobKind> = (payload: z.infer<(typeof jobSchemas)[K]>, meta: { jobId: string }) => Promise<Record<string, unknown>>;

/** Verified signatures by request, from the check before the body is parsed to the claim after it. */
type Verified = { signature: string; timestamp: number };

/**
 * Only the dispatcher and the cron path, which hold the job key, may run a job: the call must be
 * signed (job-signature.ts) within the window of this function's wall clock — checked before the
 * body is parsed — and its signature unseen (claimed by the handler once the body is valid, so a
 * refused call writes nothing: job-replay.ts). A refusal is a 401 in the error shape.
 */
function requireSignedJob(name: string, ctx: AppContext, verified: WeakMap<Request, Verified>): MiddlewareHandler<AetherEnv> {
  const path = jobFunctionPath(name);
  const log = ctx.logger.child({ function: name });
  return async (c, next) => {
    const refuse = (code: string, message: string) => {
      log.warn({ requestId: c.get('requestId'), code }, 'job call refused');
      return c.json(errorBody(c, code, message), 401);
    };
    const headers = { timestamp: c.req.header(TIMESTAMP_HEADER), nonce: c.req.header(NONCE_HEADER), signature: c.req.header(SIGNATURE_HEADER) };
    if (headers.timestamp === undefined || headers.nonce === undefined || headers.signature === undefined)
      return refuse('JOB_UNSIGNED', `a job call needs the ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER} headers`);
    const body = await c.req.text();
    const now = ctx.clock.now();
    const verdict = verifyJob(ctx.jobKey, { method: c.req.method, path, body }, headers, now);
    if (!verdict.ok) return refuse('JOB_SIGNATURE_INVALID', `the job signature is ${verdict.reason === 'outside-window' ? `outside ±${SIGNATURE_WINDOW_MS / 1000} s of the function's clock` : verdict.reason}`);
    verified.set(c.req.raw, verdict);
    await next();
  };
}

/**
 * A queue-invoked function: `POST /` with the job payload (validated by the queue's schema), signed
 * with the job key. A function whose work arrives in a later issue passes no handler and answers
 * 501, never a fake success.
 */
export interface JobFunctionOptions {
  /** Real time the job may take, external calls and waits included (lib/deadline.ts); default 100 s. */
  budgetMs?: number;
}

/** The outcome label of a job that threw: a refusal the handler meant (4xx) or a failure. */
const outcomeOf = (err: unknown): (typeof FUNCTION_JOB_OUTCOMES)[number] => (err instanceof HttpError && err.status < 500 ? 'rejected' : 'failed');

/**
 * Runs one job, recording its outcome and duration (aether_function_jobs_total,
 * aether_function_job_duration_seconds); while it runs, no idle collection starts (idle-gc.ts).
 */
async function recorded<T>(labels: { function: string; job: string }, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const ended = jobStarted();
  const observe = (outcome: (typeof FUNCTION_JOB_OUTCOMES)[number]) => {
    functionJobsTotal.inc({ ...labels, outcome });
    functionJobDuration.observe({ ...labels, outcome }, (performance.now() - started) / 1000);
  };
  try {
    const result = await run();
    observe('done');
    functionJobLastSuccess.setToCurrentTime(labels);
    return result;
  } catch (err) {
    observe(outcomeOf(err));
    throw err;
  } finally {
    ended();
  }
}

export function createJobFunction<K extends JobKind>(name: string, kind: K, ctx: AppContext, handler?: JobHandler<K>, opts: JobFunctionOptions = {}): AetherApp {
  const app = createFunctionApp(name, ctx);
  const labels = { function: name, job: kind };
  // Every outcome exists from the start at 0, so an alert's increase() sees the first failure.
  for (const outcome of FUNCTION_JOB_OUTCOMES) functionJobsTotal.inc({ ...labels, outcome }, 0);
  const verified = new WeakMap<Request, Verified>();
  const claim = signatureClaims(ctx);
  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['jobs'],
      summary: `Run one ${kind} job`,
      description: `Signed calls only: ${TIMESTAMP_HEADER} (epoch ms), ${NONCE_HEADER} (16 random bytes, hex) and ${SIGNATURE_HEADER} (hex HMAC-SHA256 under the job key; lib/http/job-signature.ts).`,
      // The body is bounded app-wide (lib/http/hygiene.ts) before this reads it.
      middleware: [requireSignedJob(name, ctx, verified)],
      // Not required: an empty (signed) body means `{}`.
      request: { body: { required: false, content: { 'application/json': { schema: jobSchemas[kind] as z.ZodType } } } },
      responses: {
        200: { description: 'Done', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
        400: errorResponses[400],
        401: { description: 'Unsigned, wrongly signed, outside the time window, or a replay', content: { 'application/json': { schema: errorSchema } } },
        415: { description: 'Not JSON', content: { 'application/json': { schema: errorSchema } } },
        404: { description: 'Unknown account', content: { 'application/json': { schema: errorSchema } } },
        409: { description: 'Another job of the account is running: retry shortly', content: { 'application/json': { schema: errorSchema } } },
        422: { description: 'A bar that may not be traded (not closed yet, or off the interval grid)', content: { 'application/json': { schema: errorSchema } } },
        501: { description: 'Not implemented yet', content: { 'application/json': { schema: errorSchema } } },
        503: { description: 'The exchange or a dependency did not answer in time: retry', content: { 'application/json': { schema: errorSchema } } },
      },
    }),
    async (c) => {
      const call = verified.get(c.req.raw);
      if (!call || !(await claim(call.signature, call.timestamp + SIGNATURE_WINDOW_MS, ctx.clock.now())))
        return c.json(errorBody(c, 'JOB_REPLAYED', 'this signed job call was already accepted once'), 401);
      if (!handler) return c.json({ code: 'NOT_IMPLEMENTED', message: `${name} does not do work yet`, requestId: c.get('requestId') }, 501);
      const payload = c.req.valid('json') as z.infer<(typeof jobSchemas)[K]>;
      // Every wait and retry inside the job ends with its budget, or with a shutdown (abortAllBudgets).
      const result = await recorded(labels, () => withDeadline(opts.budgetMs ?? 100_000, () => handler(payload, { jobId: c.get('requestId') }), c.req.raw.signal));
      return c.json(result, 200);
    },
  );
  return app;
}
