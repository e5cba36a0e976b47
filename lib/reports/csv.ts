import { roundNearest } from '../exchange/precision.ts';
import { USD_MARKETS } from '../exchange/usd-markets.ts';

/** RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; records end with CRLF. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = v instanceof Date ? v.toISOString() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvRecord = (fields: readonly unknown[]): string => `${fields.map(csvField).join(',')}\r\n`;

/**
 * Decimal places a trade's columns are written with: the quantity at the pair's lot decimals, the
 * price at its price decimals (Kraken's lot_decimals and pair_decimals, from the recorded AssetPairs
 * the simulation trades on); fees at Kraken's USD ledger precision (ZUSD: 4 decimals, what a
 * balance moves by — cents would turn a 0.026 fee into 0.03 and totals would drift), other USD
 * amounts at cents. A pair outside that listing keeps Kraken's widest precision (8), so nothing real
 * is cut off.
 */
export interface TradeDecimals {
  qty: number;
  price: number;
}
export const USD_DECIMALS = 2;
export const FEE_DECIMALS = 4;
const WIDEST = 8;
const KNOWN = new Map(USD_MARKETS.map((m) => [m.symbol, { qty: m.amountPrecision, price: m.pricePrecision }]));
export const tradeDecimals = (pair: string): TradeDecimals => KNOWN.get(pair) ?? { qty: WIDEST, price: WIDEST };

/** An exact decimal (a numeric column's text, or a number) to `decimals` places, halves away from zero. */
export function fixed(value: string | number, decimals: number): string {
  return roundNearest(Number(value), decimals).toFixed(decimals);
}
