import { randomBytes } from 'node:crypto';
import { describe, inject } from 'vitest';
import { openQueueClient, type QueueClient } from '../../lib/queue/client.ts';

export type QueueBackend = 'redis' | 'postgres';
export const QUEUE_BACKENDS: readonly QueueBackend[] = ['redis', 'postgres'];

const ci = (): boolean => process.env.CI === 'true';
type SuiteFn = ReturnType<typeof describe.skipIf>;

/**
 * `describe` for tests that need Redis: skipped when Redis is unreachable on a laptop, but under
 * CI=true always `describe`, so a missing Redis fails the run instead of silently skipping.
 */
export function describeWithRedis(): SuiteFn {
  return describe.skipIf(!ci() && !inject('redisUrl'));
}

/** The `describe` to use for one backend (PostgreSQL is always there: the global setup provides it). */
export function describeForBackend(backend: QueueBackend): SuiteFn {
  return backend === 'redis' ? describeWithRedis() : describe;
}

/** The Redis URL of the test run; throws (never falls back to PostgreSQL) when there is none. */
export function requireRedisUrl(): string {
  const url = inject('redisUrl');
  if (!url) throw new Error('Redis tests need a reachable Redis (TEST_REDIS_URL or 127.0.0.1:6379); the global setup found none');
  return url;
}

/** A queue client on the chosen backend; `databaseUrl` holds BullMQ's tables for the PostgreSQL one. */
export async function openTestQueues(backend: QueueBackend, databaseUrl: string, onError: (err: Error) => void = rethrowLater): Promise<QueueClient> {
  const client = await openQueueClient({ redisUrl: backend === 'redis' ? requireRedisUrl() : undefined, databaseUrl, onError });
  if (client.backend !== backend) throw new Error(`asked for the ${backend} backend, got ${client.backend}`);
  return client;
}

/** Connection errors between commands must not pass unnoticed in a test: surface them as uncaught. */
function rethrowLater(err: Error): void {
  setImmediate(() => {
    throw err;
  });
}

/** A fresh random slug, so each test works on its own queue on a shared Redis. */
export const randomSlug = (): string => `t${randomBytes(5).toString('hex')}`;

/** Waits for a job to complete and returns its result; a failed job throws with BullMQ's reason. */
export async function waitCompleted(queue: QueueClient, queueName: string, id: string, timeoutMs = 15_000): Promise<unknown> {
  const q = queue.queue(queueName);
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    const state = await q.getJobState(id);
    if (state === 'completed') return (await q.getJob(id))?.returnvalue;
    if (state === 'failed') throw new Error(`${queueName} ${id} failed: ${(await q.getJob(id))?.failedReason}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${queueName} ${id} did not finish within ${timeoutMs} ms`);
}
