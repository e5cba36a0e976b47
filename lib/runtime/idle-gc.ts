import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Garbage collection while no job runs. A process that serves hourly jobs is idle most of the hour,
 * but V8 collects when allocation makes it, inside whatever job is allocating: on the embedded
 * runtime's 100–140 MB heap a major collection pauses 8–21 ms and spreads up to 40 ms of marking
 * steps (some of 4–12 ms) over the work around it, and in the live bench one came about every cycle.
 * Once `quietMs` pass with no job running, the heap is collected in full: the next job starts on
 * an empty young generation and an old generation well below V8's next limit. Jobs that come back
 * to back never wait for it (it waits for a quiet moment; V8's own collection is unchanged).
 */
interface Collector {
  quietMs: number;
  gc: (() => void) | undefined;
  onCollect: ((ms: number) => void) | undefined;
  onError: ((err: unknown) => void) | undefined;
}

let collector: Collector | null = null;
let running = 0;
let timer: NodeJS.Timeout | null = null;

/**
 * Collects the heap whenever `quietMs` pass without a job (`jobStarted`). `gc` defaults to V8's own,
 * exposed at the first collection (not on the start-up path); tests pass a stand-in.
 */
export function collectWhenIdle(quietMs: number, o: { gc?: () => void; onCollect?: (ms: number) => void; onError?: (err: unknown) => void } = {}): void {
  collector = { quietMs, gc: o.gc, onCollect: o.onCollect, onError: o.onError };
}

/** Stops collecting (tests). */
export function stopIdleCollection(): void {
  collector = null;
  if (timer) clearTimeout(timer);
  timer = null;
}

/** A job starts: no idle collection until it (and every other) has ended. Returns its end; calling it again does nothing. */
export function jobStarted(): () => void {
  running++;
  if (timer) clearTimeout(timer);
  timer = null;
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    running--;
    if (running === 0 && collector) timer = setTimeout(collect, collector.quietMs).unref();
  };
}

/** A failure stops idle collection (V8 collects as before): it never reaches the timer, which would end the process. */
function collect(): void {
  timer = null;
  const c = collector;
  if (running > 0 || !c) return;
  try {
    const gc = (c.gc ??= exposedGc());
    const started = performance.now();
    gc();
    c.onCollect?.(performance.now() - started);
  } catch (err) {
    collector = null;
    c.onError?.(err);
  }
}

/** V8's collector: `--expose-gc` set now reaches the contexts created after it, such as this one. */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc() (--expose-gc)');
  return gc as () => void;
}
