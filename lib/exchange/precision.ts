import type { MarketSpec, Side } from './types.ts';

/**
 * Decimal-safe rounding to exchange precision. Doubles cannot hold most decimals exactly, so
 * `0.29 * 100` is 28.999999999999996 and a naive floor gives 0.28. We scale to an integer count of
 * steps, snap values within a few ULPs of an integer to that integer (they are representation
 * artefacts, not real fractions), and divide back: an integer divided by an exact power of ten is
 * the double nearest the decimal, exactly what parsing the decimal string would give.
 */

const MAX_DECIMALS = 15;

function pow10(decimals: number): number {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new RangeError(`decimals must be an integer in 0..${MAX_DECIMALS}, got ${decimals}`);
  }
  return 10 ** decimals;
}

function assertFinite(x: number): void {
  if (!Number.isFinite(x)) throw new RangeError(`cannot round a non-finite number (${x})`);
}

/** Returns the integer that `scaled` is an artefact of, or null when it is genuinely fractional. */
function snap(scaled: number): number | null {
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) <= Math.abs(scaled) * 8 * Number.EPSILON ? nearest : null;
}

const clean = (x: number): number => (x === 0 ? 0 : x); // no -0 in balances or prices

/** Largest multiple of 10^-decimals that is ≤ x (toward −∞). */
export function roundDown(x: number, decimals: number): number {
  assertFinite(x);
  const p = pow10(decimals);
  const s = x * p;
  return clean((snap(s) ?? Math.floor(s)) / p);
}

/** Smallest multiple of 10^-decimals that is ≥ x (toward +∞). */
export function roundUp(x: number, decimals: number): number {
  assertFinite(x);
  const p = pow10(decimals);
  const s = x * p;
  return clean((snap(s) ?? Math.ceil(s)) / p);
}

/** Nearest multiple of 10^-decimals, halves away from zero (1.005 → 1.01: the decimal, not the double). */
export function roundNearest(x: number, decimals: number): number {
  assertFinite(x);
  const p = pow10(decimals);
  const s = x * p;
  const snapped = snap(s);
  if (snapped !== null) return clean(snapped / p);
  const floor = Math.floor(s);
  const frac = s - floor;
  const half = Math.abs(frac - 0.5) <= Math.abs(s) * 8 * Number.EPSILON; // .5 up to representation error
  const r = half || frac > 0.5 ? floor + 1 : floor;
  return clean((x < 0 && half ? floor : r) / p);
}

/**
 * Rounds a price to the pair's tick. With a side, rounds in the direction that never makes the
 * order worse for its owner than the price asked for: a buy never bids above it (down), a sell
 * never offers below it (up). Without a side, nearest.
 */
export function roundPrice(x: number, decimals: number, side?: Side): number {
  if (side === 'buy') return roundDown(x, decimals);
  if (side === 'sell') return roundUp(x, decimals);
  return roundNearest(x, decimals);
}

/** Order amounts are truncated to the pair's lot decimals (never more than asked for). */
export const roundAmount = (amount: number, spec: Pick<MarketSpec, 'amountPrecision'>): number =>
  roundDown(amount, spec.amountPrecision);

/** Why an order of `amount` at `price` is below Kraken's ordermin/costmin, or null when it is not. */
export function minimumViolation(
  spec: Pick<MarketSpec, 'symbol' | 'minAmount' | 'minCost'>,
  amount: number,
  price: number,
): string | null {
  if (amount < spec.minAmount) return `${spec.symbol}: amount ${amount} is below ordermin ${spec.minAmount}`;
  const cost = amount * price;
  // Compare at 1e-9 USD so that 0.5 = 0.00001 × 50000 is not refused by a representation error.
  if (roundNearest(cost, 9) < spec.minCost) {
    return `${spec.symbol}: cost ${roundNearest(cost, 8)} USD is below costmin ${spec.minCost}`;
  }
  return null;
}

/** True when `amount` at `price` meets both ordermin (base units) and costmin (USD). */
export const meetsMinimums = (
  spec: Pick<MarketSpec, 'symbol' | 'minAmount' | 'minCost'>,
  amount: number,
  price: number,
): boolean => minimumViolation(spec, amount, price) === null;
