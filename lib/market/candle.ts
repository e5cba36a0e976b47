/** One OHLCV bar. `openTime` is the bar's open time in epoch milliseconds (UTC); `interval` is in seconds. */
export interface Candle {
  pair: string; // unified symbol, e.g. "BTC/USD"
  interval: number;
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number; // base-asset units
}

export const HOUR_S = 3600;
export const DAY_S = 86_400;

/** The open time of the bar after `c`. */
export const closeTime = (c: Pick<Candle, 'openTime' | 'interval'>): number => c.openTime + c.interval * 1000;
