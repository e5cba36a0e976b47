/**
 * The bench's side of the offset wall clock: it writes AETHER_CLOCK_OFFSET_FILE for the runtime and
 * gives the emulator the same time (system clock + offset, never backwards). The runtime re-reads the
 * file at most every 20 ms (lib/clock.ts OffsetFileClock), so a jump is visible there within that.
 */
import { renameSync, writeFileSync } from 'node:fs';

export class OffsetClock {
  private offset = 0;
  private last = -Infinity;

  constructor(private readonly file: string) {}

  now(): number {
    this.last = Math.max(this.last, Date.now() + this.offset);
    return this.last;
  }

  /** Moves wall time forward to `wallMs` (written atomically: the runtime never reads half a number). */
  jumpTo(wallMs: number): void {
    const offset = Math.round(wallMs - Date.now());
    if (offset < this.offset) throw new Error(`the wall clock cannot go backwards (offset ${offset} < ${this.offset})`);
    // OffsetFileClock starts at offset 0 and ignores smaller ones: the replay must lie in the future.
    if (offset < 0) throw new Error(`the replayed time ${new Date(wallMs).toISOString()} is before the system clock: shift the candles later`);
    this.offset = offset;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, String(offset));
    renameSync(tmp, this.file);
  }

  get offsetMs(): number {
    return this.offset;
  }
}
