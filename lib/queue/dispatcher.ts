import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { Logger } from '../log.ts';
import { jobDuration, jobsTotal } from '../http/metrics.ts';
import type { QueueClient } from './client.ts';

/** Calls a function with a job's payload: in-process (`app.request`) or through the OpenFaaS gateway. */
export type Invoke = (fn: string, payload: unknown, meta: { jobId: string; attempt: number }) => Promise<Response>;

interface RequestHandler {
  request(path: string, init: RequestInit): Response | Promise<Response>;
}

const jobRequest = (payload: unknown, meta: { jobId: string; attempt: number }): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-request-id': meta.jobId, 'x-job-attempt': String(meta.attempt) },
  body: JSON.stringify(payload),
});

export function inProcessInvoker(apps: Record<string, RequestHandler>): Invoke {
  return async (fn, payload, meta) => {
    const app = apps[fn];
    if (!app) throw new UnrecoverableError(`no function named ${fn}`);
    return app.request('/', jobRequest(payload, meta));
  };
}

export function gatewayInvoker(gatewayUrl: string, timeoutMs = 120_000): Invoke {
  const base = gatewayUrl.replace(/\/$/, '');
  return (fn, payload, meta) => fetch(`${base}/function/${fn}`, { ...jobRequest(payload, meta), signal: AbortSignal.timeout(timeoutMs) });
}

/** 4xx means the job itself is wrong and retrying cannot help; 408/429 and 5xx are worth a retry. */
const permanent = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

export function jobProcessor(invoke: Invoke, log: Logger) {
  return async (job: Job): Promise<unknown> => {
    const started = performance.now();
    const meta = { jobId: job.id ?? 'unknown', attempt: job.attemptsMade + 1 };
    try {
      const res = await invoke(job.queueName, job.data, meta);
      const text = await res.text();
      if (res.ok) {
        jobsTotal.inc({ queue: job.queueName, outcome: 'done' });
        return text ? JSON.parse(text) : null;
      }
      const msg = `${job.queueName} answered ${res.status}: ${text.slice(0, 500)}`;
      if (permanent(res.status)) throw new UnrecoverableError(msg);
      throw new Error(msg);
    } catch (err) {
      jobsTotal.inc({ queue: job.queueName, outcome: err instanceof UnrecoverableError ? 'rejected' : 'failed' });
      log.warn({ queue: job.queueName, jobId: meta.jobId, attempt: meta.attempt, err }, 'job failed');
      throw err;
    } finally {
      jobDuration.observe({ queue: job.queueName }, (performance.now() - started) / 1000);
    }
  };
}

/** One worker per queue, each invoking the function of the same name. */
export function startDispatcher(queue: QueueClient, names: string[], invoke: Invoke, log: Logger, concurrency = 4): Worker[] {
  const processor = jobProcessor(invoke, log);
  return names.map((name) => {
    const w = queue.worker(name, processor, { concurrency });
    w.on('error', (err) => log.error({ queue: name, err }, 'worker error'));
    return w;
  });
}
