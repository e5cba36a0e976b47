/**
 * Which bar an order job may trade, by WALL time (DESIGN.md §1): only the newest closed bar. A bar
 * that has not closed yet (a caller's future date, or a clock behind the exchange by more than the
 * allowed skew) is refused; a bar a newer one has replaced — a job queued before an outage, a retry
 * that waited too long — is skipped: deciding on its signal at today's prices would trade on stale
 * information.
 */
export type BarFreshness =
  | { kind: 'fresh'; closesAt: number }
  | { kind: 'stale'; closesAt: number; newest: number }
  | { kind: 'future'; closesAt: number }
  | { kind: 'misaligned' };

/** Clock difference tolerated between this machine and the exchange that stamped the bar. */
export const CLOCK_SKEW_MS = 5_000;

export function barFreshness(barTime: number, intervalSec: number, wallNow: number, skewMs = CLOCK_SKEW_MS): BarFreshness {
  const ms = intervalSec * 1000;
  if (!Number.isSafeInteger(barTime) || barTime % ms !== 0) return { kind: 'misaligned' };
  const closesAt = barTime + ms;
  if (wallNow + skewMs < closesAt) return { kind: 'future', closesAt };
  const newest = Math.floor((wallNow + skewMs) / ms) * ms - ms; // open time of the newest closed bar
  return barTime < newest ? { kind: 'stale', closesAt, newest } : { kind: 'fresh', closesAt };
}

/** The caller named a bar no job may act on (not closed yet, or not on the interval's grid). */
export class BarRefusedError extends Error {
  override name = 'BarRefusedError';
  constructor(
    readonly code: 'BAR_NOT_CLOSED' | 'BAR_MISALIGNED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one check every job that acts on a bar makes before it reads or writes anything for it:
 * throws BarRefusedError for a future or misaligned bar, else says whether it is the newest closed one.
 */
export function checkBar(barTime: number, intervalSec: number, wallNow: number): Extract<BarFreshness, { kind: 'fresh' | 'stale' }> {
  const f = barFreshness(barTime, intervalSec, wallNow);
  if (f.kind === 'misaligned') throw new BarRefusedError('BAR_MISALIGNED', `barTime ${barTime} is not the open of a ${intervalSec} s bar`);
  if (f.kind === 'future')
    throw new BarRefusedError('BAR_NOT_CLOSED', `the bar opening ${new Date(barTime).toISOString()} closes at ${new Date(f.closesAt).toISOString()}, after the wall clock's ${new Date(wallNow).toISOString()}`);
  return f;
}
