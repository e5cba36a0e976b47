import type { Candle } from '../market/candle.ts';

/**
 * Tiny trend-following comparison for evaluation only (the production baseline lives in
 * lib/strategy): long while EMA(fast) > EMA(slow) of closes, flat otherwise. Position i is decided
 * after candle i closes; the first `slow` bars are flat (warm-up).
 */
export function emaCrossoverPositions(candles: readonly Candle[], fast = 24, slow = 96): number[] {
  if (!(fast > 0 && slow > fast)) throw new Error(`need 0 < fast < slow, got ${fast}, ${slow}`);
  const af = 2 / (fast + 1);
  const as = 2 / (slow + 1);
  let ef = NaN;
  let es = NaN;
  return candles.map((c, i) => {
    ef = Number.isNaN(ef) ? c.close : ef + af * (c.close - ef);
    es = Number.isNaN(es) ? c.close : es + as * (c.close - es);
    return i >= slow && ef > es ? 1 : 0;
  });
}
