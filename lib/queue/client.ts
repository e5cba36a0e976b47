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
  worker(queue: string, processor: Processor, opts?: Partial<WorkerOptions>): Worker;
  /** A cron job scheduler (idempotent by id). */
  schedule(queue: string, schedulerId: string, pattern: string, data: unknown): Promise<void>;
  /** The BullMQ Queue object, for inspection (counts, jobs). */
  queue(name: string): Queue;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class QueueBackendError extends Error {
  override name = 'QueueBackendError';
}

const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

const RETRY = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;

export interface QueueClientOptions {
  redisUrl?: string;
  databaseUrl: string;
  /** Connection-level errors between commands (reconnects); commands themselves still fail loudly. */
  onError: (err: Error) => void;
}

export async function openQueueClient(opts: QueueClientOptions): Promise<QueueClient> {
  return opts.redisUrl ? openRedisQueues(opts.redisUrl, opts.onError) : openPostgresQueues(opts.databaseUrl, opts.onError);
}

async function openRedisQueues(url: string, onError: (err: Error) => void): Promise<QueueClient> {
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
    queue: (name) => new Queue(name, { connection: producer }),
    worker: (name, processor, o) => {
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      const w = new Worker(name, processor, { connection, ...o });
      // BullMQ never closes a connection it was handed; without this the process cannot exit.
      w.once('closed', () => connection.disconnect());
      return w;
    },
    ping: async () => void (await producer.ping()),
    close: async () => void producer.disconnect(),
  });
}

async function openPostgresQueues(databaseUrl: string, onError: (err: Error) => void): Promise<QueueClient> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client); // BullMQ's own tables, in its own schema `bullmq`
  } finally {
    await client.end();
  }
  const pgq = withBackend(createPostgresBackend);
  const probe = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  probe.on('error', onError);
  return buildClient('postgres', {
    queue: (name) => new pgq.Queue(name, { connection: { connectionString: databaseUrl, max: 1 } }) as unknown as Queue,
    worker: (name, processor, o) =>
      new pgq.Worker(name, processor, { connection: { connectionString: databaseUrl, max: 1 }, ...o } as never) as unknown as Worker,
    ping: async () => void (await probe.query('select 1')),
    close: () => probe.end(),
  });
}

interface Backend {
  queue(name: string): Queue;
  worker(name: string, processor: Processor, opts: Partial<WorkerOptions>): Worker;
  ping(): Promise<void>;
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
      await queue(name).add(name, payload, { jobId, delay: delayMs, ...RETRY, removeOnComplete: 1000, removeOnFail: 5000 });
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
    async close() {
      await Promise.all([...workers].map((w) => w.close()));
      await Promise.all([...queues.values()].map((q) => q.close()));
      await b.close();
    },
  };
}
