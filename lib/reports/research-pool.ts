/**
 * Where research tasks run: in this thread one after another, or on a pool of worker threads (the
 * backtests are CPU-bound and independent, so on N cores N of them run at once). Both give the same
 * outcomes for the same tasks; only the wall time differs.
 */
import { Worker } from 'node:worker_threads';
import { runResearchTask, type ResearchContext, type ResearchOutcome, type ResearchTask } from './research-tasks.ts';

export interface TaskRunner {
  readonly threads: number;
  run(task: ResearchTask): Promise<ResearchOutcome>;
  close(): Promise<void>;
}

/** Tasks one at a time in this thread (the order they were given). */
export function inlineRunner(ctx: ResearchContext): TaskRunner {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    threads: 0,
    run(task) {
      const p = tail.then(() => runResearchTask(ctx, task));
      tail = p.catch(() => undefined);
      return p;
    },
    close: async () => undefined,
  };
}

interface Job {
  task: ResearchTask;
  resolve: (r: ResearchOutcome) => void;
  reject: (e: Error) => void;
}

/**
 * `size` worker threads, each holding the context (candles, markets) once; tasks go to whichever is
 * idle, first come first served. The workers run TypeScript like the CLI does: the bootstrap
 * registers tsx in the worker before importing research-worker.ts (loader hooks are per thread).
 */
export function workerPool(ctx: ResearchContext, size: number): TaskRunner {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./research-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  const queue: Job[] = [];
  const idle: Worker[] = [];
  const busy = new Map<Worker, Job>();
  let failure: Error | null = null;
  const workers = Array.from({ length: size }, () => {
    const w = new Worker(bootstrap, { eval: true, workerData: ctx });
    w.on('message', (m: { ok: true; result: ResearchOutcome } | { ok: false; error: string }) => {
      const job = busy.get(w);
      busy.delete(w);
      if (job) {
        if (m.ok) job.resolve(m.result);
        else job.reject(new Error(`research worker: ${m.error}`));
      }
      next(w);
    });
    w.on('error', (e) => fail(w, e));
    w.on('exit', (code) => {
      if (busy.has(w)) fail(w, new Error(`research worker exited with code ${code}`));
    });
    return w;
  });
  const fail = (w: Worker, e: Error): void => {
    failure ??= e;
    busy.get(w)?.reject(e);
    busy.delete(w);
    for (const j of queue.splice(0)) j.reject(e);
  };
  const next = (w: Worker): void => {
    const job = queue.shift();
    if (!job) return void idle.push(w);
    busy.set(w, job);
    w.postMessage(job.task);
  };
  for (const w of workers) idle.push(w);
  return {
    threads: size,
    run(task) {
      return new Promise<ResearchOutcome>((resolve, reject) => {
        if (failure) return reject(failure);
        queue.push({ task, resolve, reject });
        const w = idle.shift();
        if (w) next(w);
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
