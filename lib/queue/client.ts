import { createPostgresBackend, Queue, runMigrations, withBackend, Worker, type Processor, type WorkerOptions } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { jobKindOf, jobSchemas } from './jobs.ts';

/**
 * The one module that chooses the queue backend: BullMQ on Redis when REDIS_URL is set, BullMQ on
 * PostgreSQL otherwise. An unreachable Redis is a start-up error, never a silent switch.
 */
export interface QueueClient {
  readonly backend: 'redis' | 'postgres';
  /** Validates the payload against its queue's schema and adds it under a deterministic id. */
  enqueue(queue: string, data: unknown, opts: { jobId: string; delayMs?: number }): Promise<void>;
  /**
   * Several jobs of one queue in one round trip (e.g. a bar's order job for every account); every
   * payload is validated first, so a bad one adds none. Ids already present are kept, as in enqueue.
   */
  enqueueMany(queue: string, jobs: ReadonlyArray<{ data: unknown; jobId: string; delayMs?: number }>): Promise<void>;
  worker(queue: string, processor: Processor, opts?: Partial<WorkerOptions>): Worker;
  /** A cron job scheduler (idempotent by id). */
  schedule(queue: string, schedulerId: string, pattern: string, data: unknown): Promise<void>;
  /** The BullMQ Queue object, for inspection (counts, jobs). */
  queue(name: string): Queue;
  ping(): Promise<void>;
  /**
   * Redis only (absent on PostgreSQL, where callers use the database): sets `key` unless it is
   * present, expiring after `ttlMs`; true when this call set it. One round trip shared by every
   * process on the Redis, for once-only claims such as a job signature's.
   */
  claimOnce?(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Stops the workers — each finishes its running jobs, for at most `graceMs` (default 20 s); a job
   * still running then is abandoned (BullMQ hands it to a worker again as stalled: jobs are
   * idempotent) — then closes the queues and the connections. Shutdown never waits unboundedly.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

export class QueueBackendError extends Error {
  override name = 'QueueBackendError';
}

const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

const RETRY = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;
const CLOSE_GRACE_MS = 20_000;
const JOB_OPTIONS = { ...RETRY, removeOnComplete: 1000, removeOnFail: 5000 } as const;

export interface QueueClientOptions {
  redisUrl?: string;
  databaseUrl: string;
  /**
   * The namespace of every queue: the Redis key prefix (BullMQ's default `bull`), or the PostgreSQL
   * schema of BullMQ's tables (default `bullmq`). Tests and benches use their own so they never
   * share the fixed queue names (`order`, `score`, …) with another run.
   */
  namespace?: string;
  /** Connection-level errors between commands (reconnects); commands themselves still fail loudly. */
  onError: (err: Error) => void;
}

export async function openQueueClient(opts: QueueClientOptions): Promise<QueueClient> {
  if (opts.namespace !== undefined && !NAMESPACE.test(opts.namespace)) throw new QueueBackendError(`queue namespace ${JSON.stringify(opts.namespace)} must match ${NAMESPACE}`);
  return opts.redisUrl ? openRedisQueues(opts.redisUrl, opts.onError, opts.namespace) : openPostgresQueues(opts.databaseUrl, opts.onError, opts.namespace);
}

/** Valid as a Redis key prefix and as an unquoted PostgreSQL schema name. */
const NAMESPACE = /^[a-z_][a-z0-9_]{0,62}$/;

async function openRedisQueues(url: string, onError: (err: Error) => void, prefix?: string): Promise<QueueClient> {
  // Producers fail fast; workers wait for Redis (maxRetriesPerRequest: null, as BullMQ requires).
  const producer = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: (n) => (n > 3 ? null : 200 * n) });
  // Connection attempts fail through connect() below; without a listener ioredis also prints them.
  const duringConnect = (): void => undefined;
  producer.on('error', duringConnect);
  try {
    await producer.connect();
    await producer.ping();
  } catch (err) {
    producer.disconnect();
    throw new QueueBackendError(`REDIS_URL ${redact(url)} is unreachable: ${(err as Error).message}. Start Redis or unset REDIS_URL to queue on PostgreSQL.`);
  }
  producer.off('error', duringConnect);
  producer.on('error', onError);
  return buildClient('redis', {
    queue: (name) => new Queue(name, { connection: producer, prefix }),
    worker: (name, processor, o) => {
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      const w = new Worker(name, processor, { connection, prefix, ...o });
      // BullMQ never closes a connection it was handed; without this the process cannot exit.
      w.once('closed', () => connection.disconnect());
      return w;
    },
    ping: async () => void (await producer.ping()),
    claimOnce: async (key, ttlMs) => (await producer.set(`${prefix ?? 'bull'}:claim:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK',
    close: async () => void producer.disconnect(),
  });
}

/**
 * BullMQ on PostgreSQL: a connection pool per Queue and per Worker plus each Worker's LISTEN
 * connection, so about three connections per queue — five queues whatever the number of accounts.
 * A worker running several jobs at once gets a few pooled connections to claim and finish them.
 */
async function openPostgresQueues(databaseUrl: string, onError: (err: Error) => void, schema?: string): Promise<QueueClient> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client, schema); // BullMQ's own tables, in its own schema (`bullmq` unless told)
  } finally {
    await client.end();
  }
  const pgq = withBackend(createPostgresBackend);
  const probe = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  probe.on('error', onError);
  const connection = (max: number) => ({ connectionString: databaseUrl, max, ...(schema ? { schema } : {}) });
  return buildClient('postgres', {
    // A Queue whose connection drops emits 'error'; with no listener BullMQ prints the whole error object to stderr.
    queue: (name) => (new pgq.Queue(name, { connection: connection(1) }) as unknown as Queue).on('error', onError),
    worker: (name, processor, o) =>
      new pgq.Worker(name, processor, { connection: connection(Math.min(4, Math.max(1, o.concurrency ?? 1))), ...o } as never) as unknown as Worker,
    ping: async () => void (await probe.query('select 1')),
    close: () => probe.end(),
  });
}

interface Backend {
  queue(name: string): Queue;
  worker(name: string, processor: Processor, opts: Partial<WorkerOptions>): Worker;
  ping(): Promise<void>;
  claimOnce?(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

function buildClient(kind: 'redis' | 'postgres', b: Backend): QueueClient {
  const queues = new Map<string, Queue>();
  const workers = new Set<Worker>();
  const queue = (name: string): Queue => {
    let q = queues.get(name);
    if (!q) queues.set(name, (q = b.queue(name)));
    return q;
  };
  return {
    backend: kind,
    queue,
    async enqueue(name, data, { jobId, delayMs }) {
      const payload = jobSchemas[jobKindOf(name)].parse(data);
      await queue(name).add(name, payload, { jobId, delay: delayMs, ...JOB_OPTIONS });
    },
    async enqueueMany(name, jobs) {
      const schema = jobSchemas[jobKindOf(name)];
      const entries = jobs.map((j) => ({ name, data: schema.parse(j.data), opts: { jobId: j.jobId, delay: j.delayMs, ...JOB_OPTIONS } }));
      if (entries.length) await queue(name).addBulk(entries);
    },
    worker(name, processor, opts = {}) {
      const w = b.worker(name, processor, opts);
      workers.add(w);
      return w;
    },
    async schedule(name, schedulerId, pattern, data) {
      const payload = jobSchemas[jobKindOf(name)].parse(data);
      await queue(name).upsertJobScheduler(schedulerId, { pattern, tz: 'UTC' }, { name, data: payload, opts: { ...RETRY } });
    },
    ping: b.ping,
    ...(b.claimOnce ? { claimOnce: b.claimOnce } : {}),
    async close({ graceMs = CLOSE_GRACE_MS } = {}) {
      await Promise.all(
        [...workers].map(async (w) => {
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
          const closed = w.close();
          // A job still running after the grace period is abandoned: BullMQ cannot force a close that
          // has begun, so drop the worker's connection and let its lock expire (the job comes back as stalled).
          if ((await Promise.race([closed.then(() => 'closed' as const), late])) === 'late') await w.disconnect().catch(() => undefined);
          clearTimeout(timer);
        }),
      );
      await Promise.all([...queues.values()].map((q) => q.close()));
      await b.close();
    },
  };
}
