/**
 * Decimal rounding for exchange precision (Kraken lot_decimals / pair_decimals are decimal counts).
 * A value within a few ulps of a step is taken as that step: binary error (0.29 * 100 = 28.999…96,
 * 50_000 * 1.001 = 50049.99…) must not cost a whole step. So a result may exceed `x` by those ulps;
 * callers that enforce a cap re-check the rounded value against the cap (see check.ts).
 */
const POW10: readonly number[] = Array.from({ length: 19 }, (_, i) => 10 ** i);
const ULPS = 4 * Number.EPSILON;

function scale(decimals: number): number {
  const p = POW10[decimals];
  if (p === undefined) throw new RangeError(`precision must be an integer in 0..18, got ${decimals}`);
  return p;
}

/** Round down to `decimals` places (amounts: never more than asked, up to binary error). */
export function floorToDecimals(x: number, decimals: number): number {
  const p = scale(decimals);
  const y = x * p;
  return Math.floor(y + Math.abs(y) * ULPS) / p;
}

/** Round up to `decimals` places. */
export function ceilToDecimals(x: number, decimals: number): number {
  const p = scale(decimals);
  const y = x * p;
  return Math.ceil(y - Math.abs(y) * ULPS) / p;
}

/** Round to the nearest `decimals` places. */
export function roundToDecimals(x: number, decimals: number): number {
  const p = scale(decimals);
  return Math.round(x * p) / p;
}

/** The smallest step at `decimals` places. */
export function lotStep(decimals: number): number {
  return 1 / scale(decimals);
}
