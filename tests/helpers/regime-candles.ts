import type { Candle } from '../../lib/market/candle.ts';
import { rng } from '../../lib/ml/math.ts';

/**
 * Synthetic 1h candles with a learnable structure that changes: the log price is a cycle
 * (amplitude · sin(phase)) plus a small random walk. The 24-bar forward return of a cycle depends on
 * where in the cycle the bar is — which the return and oscillator features show — and on the period:
 * a model fitted on one period is wrong on another. Deterministic for a seed.
 */
export interface CycleSegment {
  bars: number;
  /** Bars per cycle. */
  period: number;
  /** Of the log price. */
  amplitude: number;
}

const HOUR = 3_600_000;

export function cycleCandles(pair: string, start: number, segments: readonly CycleSegment[], o: { seed: number; price: number; phase?: number; noise?: number }): Candle[] {
  const rand = rng(o.seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const noise = o.noise ?? 0.002;
  const out: Candle[] = [];
  let phase = o.phase ?? 0;
  let walk = 0;
  let prev = o.price;
  let t = start;
  for (const seg of segments)
    for (let i = 0; i < seg.bars; i++) {
      phase += (2 * Math.PI) / seg.period;
      walk += noise * gauss();
      const close = o.price * Math.exp(seg.amplitude * Math.sin(phase) + walk);
      const wick = Math.abs(noise * gauss()) * close;
      out.push({ pair, interval: 3600, openTime: t, open: prev, high: Math.max(prev, close) + wick, low: Math.min(prev, close) - wick, close, volume: 100 + 20 * rand() });
      prev = close;
      t += HOUR;
    }
  return out;
}
