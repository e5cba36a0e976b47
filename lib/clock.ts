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
