/** Test helpers: ccxt constructor options pointed at an emulator, and small synthetic candle paths. */
import type { Candle } from '../../lib/market/candle.ts';
import type { KrakenEmulator } from './server.ts';

let nonceBase = Date.now() * 1000;

/**
 * Options for `new ccxt.kraken(...)` against the emulator. The nonce is strictly increasing across
 * every client in the process, because ccxt's millisecond nonce collides on back-to-back calls.
 */
export function ccxtOptions(emu: KrakenEmulator, key?: { key: string; secret: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...(key ? { apiKey: key.key, secret: key.secret } : {}),
    enableRateLimit: false,
    timeout: 2000,
    urls: { api: { public: emu.url, private: emu.url } },
    nonce: () => ++nonceBase,
    ...extra,
  };
}

/** Hourly candles from [open, high, low, close] rows, starting at 2024-01-01T00:00Z. */
export function hourly(pair: string, rows: Array<[number, number, number, number]>, start = Date.UTC(2024, 0, 1)): Candle[] {
  return rows.map(([open, high, low, close], i) => ({ pair, interval: 3600, openTime: start + i * 3_600_000, open, high, low, close, volume: 10 }));
}

/** A flat path at `price` for `n` candles. */
export function flat(pair: string, price: number, n: number): Candle[] {
  return hourly(pair, Array.from({ length: n }, () => [price, price, price, price] as [number, number, number, number]));
}

/** The error a call fails with; fails the test when the call succeeds. */
export async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}
