import { z } from 'zod';

/**
 * One queue per job kind: `tick`, `score`, `order`, `report`, `train`. A job of every queue but
 * `order` invokes the function of the same name; an `order` job invokes `order-<account>`, the
 * function of the account its payload names (one function per account, each mounting only that
 * account's Kraken secret) — so the number of queues, and of queue connections, does not grow with
 * the accounts. Job payloads are zod schemas; job ids are business keys.
 */
export const accountSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/);
const epochMs = z.number().int().nonnegative();

export const jobSchemas = {
  tick: z.object({ scheduledAt: epochMs.optional() }).strict(),
  score: z.object({ barTime: epochMs, pairs: z.array(z.string().regex(/^[A-Z0-9]+\/USD$/)).min(1).max(50) }).strict(),
  order: z.object({ account: accountSlug, barTime: epochMs }).strict(),
  report: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }).strict(),
  train: z.object({ trigger: z.enum(['schedule', 'drift', 'manual']).default('schedule') }).strict(),
} as const;
export type JobKind = keyof typeof jobSchemas;
export type OrderJob = z.infer<(typeof jobSchemas)['order']>;

/** Every queue the dispatcher consumes: one per job kind. */
export const JOB_QUEUES: readonly JobKind[] = Object.keys(jobSchemas) as JobKind[];

/** OpenFaaS function name of the order function serving one account (`order-company`). */
export const ORDER_FUNCTION_PREFIX = 'order-';
export const orderFunction = (account: string): string => `${ORDER_FUNCTION_PREFIX}${account}`;

/** A queue's job kind: queue names are the job kinds themselves; anything else is refused. */
export function jobKindOf(queue: string): JobKind {
  if (!Object.hasOwn(jobSchemas, queue)) throw new Error(`unknown queue ${queue} (queues: ${JOB_QUEUES.join(', ')})`);
  return queue as JobKind;
}

/**
 * The function a job invokes: `order` → `order-<account>` of its payload, any other queue → the
 * function of the same name. A payload without a valid account is refused (it never reaches a function).
 */
export function functionForJob(queue: string, data: unknown): string {
  if (jobKindOf(queue) !== 'order') return queue;
  const account = accountSlug.safeParse((data as { account?: unknown } | null)?.account);
  if (!account.success) throw new Error(`an order job names no valid account: ${JSON.stringify(data)?.slice(0, 200)}`);
  return orderFunction(account.data);
}

/**
 * Jobs with the same key never run at the same time in one dispatcher: an account's order jobs (the
 * key is its function, `order-<account>`). Other kinds have no key.
 */
export function serialKeyOf(queue: string, data: unknown): string | null {
  return queue === 'order' ? functionForJob(queue, data) : null;
}

/** BullMQ forbids ':' in custom job ids; business keys use '-' and '_' only. */
export function jobId(...parts: Array<string | number>): string {
  const id = parts.map(String).join('-').replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!id) throw new Error('empty job id');
  return id;
}
