import { describe, expect, it } from 'vitest';
import { baselineProvider } from '../../../lib/cycle/signals.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import type { Signal } from '../../../lib/strategy/signal.ts';
import { lazyTrendSignal } from '../../../lib/strategy/trend-lazy.ts';
import { defaultTrendOptions, trendSignalAt } from '../../../lib/strategy/trend.ts';
import { krakenHourly } from './ohlcv.ts';

const NUMBERS = ['probUp', 'expectedReturn', 'volatility', 'atrPct'] as const;
const closeOf = (h: readonly Candle[]) => h[h.length - 1]!.openTime + 3_600_000;

/** The lazy signal is the eager one, bit for bit, whichever of its fields is read first (and however). */
describe('lazyTrendSignal', () => {
  const candles = krakenHourly('SOL').slice(0, 2000);

  it('reads as trendSignalAt, field by field and as a whole, in any order of reads, on one growing array', () => {
    const history: Candle[] = candles.slice(0, 760);
    for (let i = 760; i < candles.length; i += 37) {
      while (history.length < i) history.push(candles[history.length]!);
      const eager = trendSignalAt(history, defaultTrendOptions, closeOf(history));
      const reads: ((s: Signal) => unknown)[] = [
        (s) => s.atrPct,
        (s) => s.probUp,
        (s) => s.regime.label,
        (s) => JSON.stringify(s),
        (s) => ({ ...s }),
        (s) => Object.keys(s),
      ];
      const first = reads[i % reads.length]!;
      const lazy = lazyTrendSignal(history, defaultTrendOptions, closeOf(history));
      first(lazy);
      for (const k of NUMBERS) expect(Object.is(lazy[k], eager[k])).toBe(true);
      expect(lazy).toEqual(eager);
      expect(JSON.stringify(lazy)).toBe(JSON.stringify(eager));
      expect({ ...lazy }).toStrictEqual(eager);
    }
  });

  it('answers pair, time and version without computing, and atrPct without the score', () => {
    const h = candles.slice(0, 900);
    const lazy = lazyTrendSignal(h, defaultTrendOptions, closeOf(h));
    const eager = trendSignalAt(h, defaultTrendOptions, closeOf(h));
    expect([lazy.pair, lazy.time, lazy.modelVersion, lazy.horizonBars]).toEqual([eager.pair, eager.time, eager.modelVersion, eager.horizonBars]);
    expect(lazy.atrPct).toBe(eager.atrPct);
    expect(lazy.regime).toEqual(eager.regime);
  });

  it('checks its candles now, as trendSignalAt does', () => {
    const short = candles.slice(0, 100);
    expect(() => lazyTrendSignal(short, defaultTrendOptions, closeOf(short))).toThrow(RangeError);
    expect(() => trendSignalAt(short, defaultTrendOptions, closeOf(short))).toThrow(RangeError);
  });

  it('throws when its candles were shifted before its numbers were read, instead of reading another window', () => {
    const h = candles.slice(0, 900);
    const lazy = lazyTrendSignal(h, defaultTrendOptions, closeOf(h));
    h.shift();
    expect(() => lazy.probUp).toThrow(/candles changed/);
  });

  it('is what the baseline provider gives', () => {
    const h = candles.slice(0, 800);
    expect(baselineProvider.signal(h, closeOf(h))).toEqual(trendSignalAt(h, defaultTrendOptions, closeOf(h)));
  });
});
