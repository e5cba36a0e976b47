import { describe, expect, it } from 'vitest';
import { baselineSignal, defaultBaselineOptions } from '../../../lib/strategy/baseline.ts';
import { atr, ema, logReturnStd, sma } from '../../../lib/strategy/indicators.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { krakenHourly } from './ohlcv.ts';

/** The baseline's figures from the indicators one by one, as baselineSignal's formula states them. */
function reference(candles: readonly Candle[], end: number, o: typeof defaultBaselineOptions) {
  const start = Math.max(0, end - o.lookback);
  const closes = candles.slice(start, end).map((c) => c.close);
  const close = closes[closes.length - 1]!;
  const fast = ema(closes, o.fastPeriod);
  const slow = ema(closes, o.slowPeriod);
  const trendMa = sma(closes, o.trendPeriod);
  const atrPct = atr(candles, o.atrPeriod, end, Math.max(start, end - 10 * o.atrPeriod - 1)) / close;
  const unit = atrPct > 0 ? atrPct : Number.POSITIVE_INFINITY;
  const score = (fast - slow) / close / unit + 0.25 * Math.min(4, Math.max(-4, (close - trendMa) / close / unit));
  let probUp = 1 / (1 + Math.exp(-o.gain * score));
  if (atrPct > o.maxAtrPct) probUp = Math.min(probUp, 0.5);
  return { probUp, atrPct, volatility: logReturnStd(closes, o.volWindow) };
}

describe('baselineSignal computes its indicators in one pass, with the same values', () => {
  const eth = krakenHourly('ETH').slice(0, 1500);
  const asOf = (end: number) => eth[end - 1]!.openTime + eth[end - 1]!.interval * 1000;

  it.each([
    ['defaults', {}],
    ['a window the one pass does not cover (lookback = trend period)', { lookback: 200 }],
    ['other periods', { fastPeriod: 5, slowPeriod: 30, trendPeriod: 100, atrPeriod: 7, lookback: 260 }],
  ])('%s', (_, opts) => {
    const o = { ...defaultBaselineOptions, ...opts };
    for (const end of [320, 321, 777, 1200, eth.length]) {
      const s = baselineSignal(eth, { ...opts, asOf: asOf(end) });
      const r = reference(eth, end, o);
      expect(Object.is(s.probUp, r.probUp)).toBe(true);
      expect(Object.is(s.atrPct, r.atrPct)).toBe(true);
      expect(Object.is(s.volatility, r.volatility)).toBe(true);
    }
  });
});
