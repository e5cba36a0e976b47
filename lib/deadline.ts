/**
 * Time budgets for work that talks to the outside world. A job runs inside `withDeadline`; anything
 * it calls (the Kraken broker's retries, backoff sleeps, limiter waits) asks how much budget is left
 * instead of being handed a timeout, so a slow exchange can never hold a job — or a shutdown — for
 * longer than its budget. Budgets are real elapsed time (performance.now), never the trading clock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class DeadlineExceededError extends Error {
  override name = 'DeadlineExceededError';
}

interface Budget {
  endsAt: number; // performance.now() value
  signal: AbortSignal;
}

const current = new AsyncLocalStorage<Budget>();
/** Aborted once, when the process shuts down: every budget ends with it. */
const shutdown = new AbortController();

/**
 * Runs `fn` with at most `ms` of real time (nested budgets keep the tighter end) and ends the budget
 * early when `signal` (or the process shutdown) aborts.
 */
export function withDeadline<T>(ms: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const outer = current.getStore();
  const endsAt = Math.min(performance.now() + ms, outer?.endsAt ?? Infinity);
  const signals = [shutdown.signal, ...(outer ? [outer.signal] : []), ...(signal ? [signal] : [])];
  return current.run({ endsAt, signal: AbortSignal.any(signals) }, fn);
}

/** Milliseconds left in the current budget (Infinity outside any). */
export function remainingMs(): number {
  const b = current.getStore();
  if (!b) return shutdown.signal.aborted ? 0 : Infinity;
  return b.signal.aborted ? 0 : Math.max(0, b.endsAt - performance.now());
}

/** Throws DeadlineExceededError when the budget is spent or its signal aborted. */
export function checkDeadline(what: string): void {
  if (remainingMs() <= 0) throw new DeadlineExceededError(`${what}: ${shutdown.signal.aborted ? 'shutting down' : 'time budget spent'}`);
}

/**
 * Sleeps `ms` of real time inside the budget: a wait that cannot end before the budget does fails at
 * once (nobody would be there to use its result), and an abort cuts a sleep short.
 */
export function sleepWithin(ms: number, what = 'wait'): Promise<void> {
  checkDeadline(what);
  if (ms >= remainingMs()) return Promise.reject(new DeadlineExceededError(`${what}: ${Math.ceil(ms)} ms would outlast the time budget (${Math.floor(remainingMs())} ms left)`));
  const signal = current.getStore()?.signal ?? shutdown.signal;
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(new DeadlineExceededError(`${what}: aborted`));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, Math.max(0, ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whether the process is shutting down (abortAllBudgets was called). */
export const shuttingDown = (): boolean => shutdown.signal.aborted;

/** Ends every running budget: in-flight jobs stop at their next wait or retry. Called on shutdown. */
export function abortAllBudgets(reason = 'shutting down'): void {
  shutdown.abort(new DeadlineExceededError(reason));
}
