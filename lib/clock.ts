/** Trading time comes from a Clock so that live runs, replays and backtests share one code path. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Epoch microseconds, where the clock has them (the wall clock): Kraken nonces, which must differ
   * between two calls within one millisecond. A clock without it counts whole milliseconds.
   */
  nowMicros?(): bigint;
}

/** Added to the high-resolution timer to put it on Date.now()'s milliseconds (set at first use). */
let timerCorrection: number | null = null;

/** The correction at a tick of Date.now() (waited for, ≤ 1 ms, once per process): then the wall clock is exactly on a millisecond's edge. */
function alignTimer(): number {
  const start = Date.now();
  let ms = start;
  while (ms === start) ms = Date.now();
  return ms - (performance.timeOrigin + performance.now());
}

/**
 * Date.now() (plus `offsetMs`) in µs, the µs into its millisecond from the high-resolution timer,
 * aligned on the wall clock's millisecond edges at first use. The timer then drifts from the wall
 * clock (which NTP steers): wherever it has left Date.now()'s millisecond it is moved onto that
 * millisecond's nearest edge, and runs on from there. The result follows the wall clock to the
 * millisecond and never goes back.
 */
export function wallMicros(offsetMs = 0): bigint {
  timerCorrection ??= alignTimer();
  const ms = Date.now();
  let t = performance.timeOrigin + performance.now() + timerCorrection;
  if (t < ms) {
    timerCorrection += ms - t;
    t = ms;
  } else if (t >= ms + 1) {
    timerCorrection -= t - (ms + 0.999);
    t = ms + 0.999;
  }
  return BigInt(ms + offsetMs) * 1000n + BigInt(Math.floor((t - ms) * 1000));
}

export const systemClock: Clock = { now: () => Date.now(), nowMicros: () => wallMicros() };

/** A clock that only moves when told to: backtests and deterministic tests. */
export class VirtualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t < this.t) throw new Error(`VirtualClock cannot go backwards (${t} < ${this.t})`);
    this.t = t;
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
}

/**
 * The wall clock of a replay or a benchmark: system time plus an offset (ms) read from a file that
 * the driver rewrites to jump forward (an hour per replayed bar). Between jumps it runs at real
 * speed, so rate limits and timeouts behave as they would live. It never goes backwards: a smaller
 * offset than one already seen is ignored. Production leaves AETHER_CLOCK_OFFSET_FILE unset.
 */
export class OffsetFileClock implements Clock {
  private offset = 0;
  private checkedAt = -Infinity;
  private mtime = -1;
  private last = -Infinity;

  constructor(
    private readonly file: string,
    private readonly read: (file: string) => { mtimeMs: number; text: () => string } | null,
    private readonly recheckMs = 20,
  ) {
    this.refresh();
  }

  private refresh(): void {
    this.checkedAt = performance.now();
    const f = this.read(this.file);
    if (!f || f.mtimeMs === this.mtime) return;
    this.mtime = f.mtimeMs;
    const v = Number(f.text().trim());
    if (!Number.isFinite(v)) throw new Error(`AETHER_CLOCK_OFFSET_FILE ${this.file} does not hold a number of milliseconds`);
    this.offset = Math.max(this.offset, Math.round(v));
  }

  now(): number {
    if (performance.now() - this.checkedAt >= this.recheckMs) this.refresh();
    this.last = Math.max(this.last, Date.now() + this.offset);
    return this.last;
  }

  nowMicros(): bigint {
    const floor = BigInt(this.now()) * 1000n; // never behind what now() has said
    const us = wallMicros(this.offset);
    return us > floor ? us : floor;
  }
}
