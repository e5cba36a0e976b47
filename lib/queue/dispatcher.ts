import { DelayedError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Clock } from '../clock.ts';
import { logConnectionError, type Logger } from '../log.ts';
import { jobFunctionPath, signJob } from '../http/job-signature.ts';
import { jobDuration, jobsTotal } from '../http/metrics.ts';
import type { QueueClient } from './client.ts';
import { functionForJob, serialKeyOf, type JobKind } from './jobs.ts';

/** Calls a function with a job's payload, signed: in-process (`app.request`) or through the OpenFaaS gateway. */
export type Invoke = (fn: string, payload: unknown, meta: { jobId: string; attempt: number }) => Promise<Response>;

interface RequestHandler {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

/** Finds a function's app by name; null (or undefined) when there is no such function. */
export type ResolveFunction = (fn: string) => RequestHandler | null | undefined | Promise<RequestHandler | null | undefined>;

/** What signs job calls: the job key, and the wall clock the functions judge the timestamp by (an AppContext is one). */
export interface JobSigner {
  jobKey: Buffer;
  clock: Clock;
}

/**
 * The request that runs one job on function `fn`, signed at the signer's `now` (each attempt signs
 * afresh: a retry is a new call, never a replay).
 */
export function jobRequest(signer: JobSigner, fn: string, payload: unknown, meta: { jobId?: string; attempt?: number } = {}): RequestInit {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...signJob(signer.jobKey, { method: 'POST', path: jobFunctionPath(fn), body }, signer.clock.now()) };
  if (meta.jobId !== undefined) headers['x-request-id'] = meta.jobId;
  if (meta.attempt !== undefined) headers['x-job-attempt'] = String(meta.attempt);
  return { method: 'POST', headers, body };
}

/**
 * In-process invocation: a fixed map of apps, or a resolver that finds (and may build) the app on
 * demand — how the embedded runtime serves `order-<account>` for an account created after start.
 */
export function inProcessInvoker(apps: Record<string, RequestHandler> | ResolveFunction, signer: JobSigner): Invoke {
  const resolve: ResolveFunction = typeof apps === 'function' ? apps : (fn) => (Object.hasOwn(apps, fn) ? apps[fn] : null);
  return async (fn, payload, meta) => {
    const app = await resolve(fn);
    if (!app) throw new UnrecoverableError(`no function named ${fn}`);
    return app.request('/', jobRequest(signer, fn, payload, meta));
  };
}

/**
 * Invocation through the OpenFaaS gateway (`GATEWAY_URL/function/<fn>`). `timeoutMs` (per function:
 * its exec_timeout) plus a margin bounds the call, so the function's own timeout answers first.
 */
export function gatewayInvoker(gatewayUrl: string, signer: JobSigner, timeoutMs: number | ((fn: string) => number) = 120_000, marginMs = 10_000): Invoke {
  const base = gatewayUrl.replace(/\/$/, '');
  const limit = typeof timeoutMs === 'number' ? () => timeoutMs : timeoutMs;
  return (fn, payload, meta) => fetch(`${base}${jobFunctionPath(fn)}`, { ...jobRequest(signer, fn, payload, meta), signal: AbortSignal.timeout(limit(fn) + marginMs) });
}

/** 4xx means the job itself is wrong and retrying cannot help; 408/429 and 5xx are worth a retry. */
const permanent = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * What a function answers when another job of the same account holds the account (its per-account
 * lock, e.g. a job another dispatcher replica runs): 409 with this code. The job waits and runs
 * later, without spending an attempt — the same as a job whose account is busy in this dispatcher.
 */
export const BUSY_CODE = 'ACCOUNT_BUSY';
const busyAnswer = (status: number, text: string): boolean => {
  if (status !== 409) return false;
  try {
    return (JSON.parse(text) as { code?: unknown }).code === BUSY_CODE;
  } catch {
    return false;
  }
};

/** The `outcome` label of aether_jobs_total. */
export const JOB_OUTCOMES = ['done', 'retried', 'failed', 'rejected'] as const;

/** How long a job waits (delayed, off the worker) while another job with its serial key runs. */
export const BUSY_RETRY_MS = 200;

export interface ProcessorOptions {
  /**
   * Serial keys of the jobs running in this process (shared by every worker of one dispatcher). A
   * job whose key is taken goes back to the queue as delayed instead of holding a worker slot, so one
   * account's backlog never stops the other accounts' jobs.
   */
  running?: Set<string>;
  busyRetryMs?: number;
}

/**
 * The BullMQ processor: invokes the job's function (an `order` job: `order-<account>` of its
 * payload), maps its answer to done / retry / fail for good, and counts every outcome in
 * `aether_jobs_total{queue,outcome}`: done, retried (a retry follows), failed (retries exhausted),
 * rejected (4xx or no such function: never retried). A function answering non-2xx is never `done`.
 */
export function jobProcessor(invoke: Invoke, log: Logger, opts: ProcessorOptions = {}) {
  const running = opts.running ?? new Set<string>();
  const busyRetryMs = opts.busyRetryMs ?? BUSY_RETRY_MS;
  return async (job: Job, token?: string): Promise<unknown> => {
    const meta = { jobId: job.id ?? 'unknown', attempt: job.attemptsMade + 1 };
    let fn: string;
    let key: string | null;
    try {
      fn = functionForJob(job.queueName, job.data);
      key = serialKeyOf(job.queueName, job.data);
    } catch (err) {
      jobsTotal.inc({ queue: job.queueName, outcome: 'rejected' });
      log.warn({ queue: job.queueName, jobId: meta.jobId, err }, 'job refused');
      throw new UnrecoverableError((err as Error).message);
    }
    const delay = async (why: string): Promise<never> => {
      // Wait off the worker, without spending an attempt; neither a failure nor a duration.
      await job.moveToDelayed(Date.now() + busyRetryMs, token);
      throw new DelayedError(why);
    };
    // Another job of this account runs in this dispatcher.
    if (key !== null && running.has(key)) return delay(`${key} is busy here`);
    if (key !== null) running.add(key);
    const started = performance.now();
    let answer: { status: number; ok: boolean; text: string };
    try {
      const res = await invoke(fn, job.data, meta);
      answer = { status: res.status, ok: res.ok, text: await res.text() };
    } catch (err) {
      if (key !== null) running.delete(key);
      jobDuration.observe({ queue: job.queueName }, (performance.now() - started) / 1000);
      throw counted(err as Error);
    }
    if (key !== null) running.delete(key);
    // Another job holds the account elsewhere (its lock): the function said so before doing anything.
    if (busyAnswer(answer.status, answer.text)) return delay(`${fn} answered ${BUSY_CODE}`);
    jobDuration.observe({ queue: job.queueName }, (performance.now() - started) / 1000);
    if (answer.ok) {
      jobsTotal.inc({ queue: job.queueName, outcome: 'done' });
      return answer.text ? JSON.parse(answer.text) : null;
    }
    const msg = `${fn} answered ${answer.status}: ${answer.text.slice(0, 500)}`;
    throw counted(permanent(answer.status) ? new UnrecoverableError(msg) : new Error(msg));

    function counted(err: Error): Error {
      // rejected: never retried (4xx, no such function); failed: the last attempt failed; retried: another follows.
      const outcome = err instanceof UnrecoverableError ? 'rejected' : meta.attempt >= (job.opts.attempts ?? 1) ? 'failed' : 'retried';
      jobsTotal.inc({ queue: job.queueName, outcome });
      log[outcome === 'retried' ? 'warn' : 'error']({ queue: job.queueName, function: fn, jobId: meta.jobId, attempt: meta.attempt, outcome, err }, 'job failed');
      return err;
    }
  };
}

/**
 * Jobs run at once per queue, in a process that does the work itself (`aether start`). `order` jobs
 * are mostly database and Kraken I/O and one per account arrives each bar, so that queue runs a few
 * at once (one account's never overlap). Keep it well below the database pool (10): a running order
 * job holds a connection for its account lock and needs another for its work — at 10 the pool
 * deadlocks. Measured (bench cycle, 100 accounts, 2 cores): 2–6 alike, 8 slower, 12 deadlocked.
 */
export const DEFAULT_CONCURRENCY: Readonly<Record<JobKind, number>> = { tick: 1, score: 2, order: 4, report: 1, train: 1 };

export interface DispatcherOptions {
  /** One number for every queue, or per queue (missing queues take DEFAULT_CONCURRENCY). */
  concurrency?: number | Partial<Record<string, number>>;
  busyRetryMs?: number;
}

/**
 * One worker per queue (JOB_QUEUES: every job kind); each job invokes its
 * function (`order` → `order-<account>`). An account's order jobs never run at the same time in
 * this dispatcher; across dispatcher replicas the order job's own per-account lock keeps them apart.
 */
export function startDispatcher(queue: QueueClient, queues: readonly string[], invoke: Invoke, log: Logger, opts: DispatcherOptions | number = {}): Worker[] {
  const o: DispatcherOptions = typeof opts === 'number' ? { concurrency: opts } : opts;
  const running = new Set<string>();
  const processor = jobProcessor(invoke, log, { running, busyRetryMs: o.busyRetryMs });
  return queues.map((name) => {
    // Every series exists from the start at 0, so the first failure is an increase an alert can see.
    for (const outcome of JOB_OUTCOMES) jobsTotal.inc({ queue: name, outcome }, 0);
    const concurrency =
      typeof o.concurrency === 'number' ? o.concurrency : (o.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name as JobKind] ?? 1);
    const w = queue.worker(name, processor, { concurrency });
    w.on('error', (err) => logConnectionError(log, 'error', err, { queue: name }, 'worker error'));
    return w;
  });
}
