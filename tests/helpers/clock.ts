import type { Clock } from '../../lib/clock.ts';

/**
 * Wall time for tests that replay old bars: real time plus an offset that only grows, as the
 * runtime's AETHER_CLOCK_OFFSET_FILE gives benches. It keeps moving between jumps, so rate limits,
 * nonces and timeouts behave as they do live.
 */
export class SteppedClock implements Clock {
  private offset: number;
  constructor(start: number) {
    this.offset = start - Date.now();
  }
  now(): number {
    return Date.now() + this.offset;
  }
  /** Moves wall time forward to `t` (never back). */
  jumpTo(t: number): void {
    this.offset = Math.max(this.offset, t - Date.now());
  }
}
