/** Trading time comes from a Clock so that live runs, replays and backtests share one code path. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

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
}
