import { z } from 'zod';

/**
 * Queue names are the names of the functions that consume them: the dispatcher maps `order-company`
 * to the function `order-company`. Job payloads are zod schemas; job ids are business keys.
 */
export const accountSlug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/);
const epochMs = z.number().int().nonnegative();

export const jobSchemas = {
  tick: z.object({ scheduledAt: epochMs.optional() }).strict(),
  score: z.object({ barTime: epochMs, pairs: z.array(z.string().regex(/^[A-Z0-9]+\/USD$/)).min(1).max(50) }).strict(),
  order: z.object({ barTime: epochMs }).strict(),
  hedge: z.object({ barTime: epochMs.optional(), account: accountSlug.optional() }).strict(),
  report: z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }).strict(),
  train: z.object({ trigger: z.enum(['schedule', 'drift', 'manual']).default('schedule') }).strict(),
} as const;
export type JobKind = keyof typeof jobSchemas;

/** `order-company` → order; other queue names are their own kind. */
export function jobKindOf(queue: string): JobKind {
  const kind = queue.startsWith('order-') ? 'order' : queue;
  if (!(kind in jobSchemas)) throw new Error(`unknown queue ${queue}`);
  return kind as JobKind;
}

/** BullMQ forbids ':' in custom job ids; business keys use '-' and '_' only. */
export function jobId(...parts: Array<string | number>): string {
  const id = parts.map(String).join('-').replace(/[^A-Za-z0-9_.-]/g, '_');
  if (!id) throw new Error('empty job id');
  return id;
}
