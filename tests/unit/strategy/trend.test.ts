import { describe, expect, it } from 'vitest';
import { baselineProvider, trendProvider } from '../../../lib/cycle/signals.ts';
import { closeTime, type Candle } from '../../../lib/market/candle.ts';
import { defaultTrendOptions, normalCdf, storable, TREND_VERSION, trendSignal, trendWarmup } from '../../../lib/strategy/trend.ts';
import { bars, krakenHourly } from './ohlcv.ts';

const H = 3_600_000;

const asOfEnd = (c: readonly Candle[]) => closeTime(c[c.length - 1]!);
const rel = (a: number, b: number) => Math.abs(a / b - 1);

/** What PostgreSQL answers for a `real` (float4) column holding x: the shortest decimal that reads back as the same float4. */
function throughFloat4(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return Number(f.toPrecision(p));
  return f;
}

describe('trendSignal', () => {
  it('reads at most what Kraken serves live: 720 candles, the newest one open', () => {
    expect(defaultTrendOptions.lookback).toBeLessThanOrEqual(719);
    expect(trendWarmup(defaultTrendOptions)).toBeLessThanOrEqual(defaultTrendOptions.lookback);
    expect(baselineProvider.lookback).toBe(defaultTrendOptions.lookback);
  });

  it('is the drift t-statistic over 14 and 28 days, averaged, and its probability and edge follow from it', () => {
    const c = bars(800, 0.0005);
    const s = trendSignal(c, { asOf: asOfEnd(c) });
    // The same numbers by hand, from the definitions in trend.ts.
    const last = c.length - 1;
    const r = c.slice(last - 336 + 1 - 1).map((x, i, a) => (i ? Math.log(x.close / a[i - 1]!.close) : 0)).slice(1);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const sigma = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    const score = [336, 672].reduce((a, L) => a + Math.log(c[last]!.close / c[last - L]!.close) / (sigma * Math.sqrt(L)), 0) / 2;
    const sdH = sigma * Math.sqrt(168);
    expect(rel(s.volatility, sigma)).toBeLessThan(1e-5);
    expect(rel(s.expectedReturn, 0.1 * score * sdH)).toBeLessThan(1e-5);
    expect(rel(s.probUp, normalCdf((0.1 * score * sdH - 0.0062) / sdH))).toBeLessThan(1e-5);
    expect(s).toMatchObject({ modelVersion: TREND_VERSION, pair: 'BTC/USD', time: c[last]!.openTime, horizonBars: 168 });
    expect(s.regime.probs.bull + s.regime.probs.bear + s.regime.probs.sideways).toBeCloseTo(1, 12);
  });

  it.each([
    ['a steady rise', 0.0005, 'bull', true],
    ['a steady fall', -0.0005, 'bear', false],
  ] as const)('%s: regime %s, probUp above 0.5 = %s', (_name, drift, label, up) => {
    const c = bars(800, drift);
    const s = trendSignal(c, { asOf: asOfEnd(c) });
    expect(s.regime.label).toBe(label);
    expect(s.probUp > 0.5).toBe(up);
    expect(s.expectedReturn > 0).toBe(up);
  });

  it('a flat market expects nothing, and its probability of paying a round trip is under one half', () => {
    const c = bars(800, 0);
    const s = trendSignal(c, { asOf: asOfEnd(c) });
    expect(Math.abs(s.expectedReturn)).toBeLessThan(1e-9);
    expect(s.probUp).toBeLessThan(0.5);
    expect(s.regime.label).toBe('sideways');
  });

  it('gives numbers that come back unchanged from the signals table (float4), so the live path decides on the same ones', () => {
    const btc = krakenHourly('BTC');
    for (const iso of ['2021-03-01T00:00:00Z', '2021-10-20T00:00:00Z', '2022-06-15T00:00:00Z', '2022-11-09T13:00:00Z']) {
      const s = baselineProvider.signal(btc, Date.parse(iso))!;
      for (const v of [s.probUp, s.expectedReturn, s.volatility, s.atrPct]) expect(throughFloat4(v), `${iso} ${v}`).toBe(v);
    }
    expect(storable(0.123456789)).toBe(0.123457);
    expect(storable(0)).toBe(0);
  });

  it('uses only candles closed by asOf, and only the newest lookback of them', () => {
    const c = bars(1500, 0.0003);
    const asOf = closeTime(c[1000]!);
    const s = trendSignal(c, { asOf });
    expect(trendSignal(c.slice(0, 1001), { asOf })).toEqual(s); // the future changes nothing
    expect(trendSignal(c.slice(1001 - 719, 1001), { asOf })).toEqual(s); // older history changes nothing
  });

  it('measures momentum by time: a missing day does not stretch a lag', () => {
    const c = bars(800, 0.001);
    // 48 hours without candles between the 28-day anchor and the 14-day one.
    const gappy = [...c.slice(0, 300), ...c.slice(348)];
    const s = trendSignal(gappy, { asOf: asOfEnd(gappy) });
    const last = gappy[gappy.length - 1]!;
    const byTime = (L: number) => gappy.filter((x) => x.openTime <= last.openTime - L * H).at(-1)!;
    const bars_ = (x: Candle) => (last.openTime - x.openTime) / H;
    const z = (x: Candle) => Math.log(last.close / x.close) / (s.volatility * Math.sqrt(bars_(x)));
    const score = (z(byTime(336)) + z(byTime(672))) / 2;
    expect(rel(s.expectedReturn, 0.1 * score * s.volatility * Math.sqrt(168))).toBeLessThan(1e-5);
    // Counting candles instead would reach 48 hours further back for the 28-day lag.
    const byIndex = gappy[gappy.length - 1 - 672]!;
    expect(bars_(byIndex)).toBe(720);
    expect(bars_(byTime(672))).toBe(672);
  });

  it('refuses to speak before its warm-up, and the provider says nothing instead', () => {
    const c = bars(trendWarmup(defaultTrendOptions) - 1, 0.001);
    expect(() => trendSignal(c, { asOf: asOfEnd(c) })).toThrow(RangeError);
    expect(baselineProvider.signal(c, asOfEnd(c))).toBeNull();
    expect(() => trendSignal(bars(800, 0.001), { asOf: asOfEnd(bars(800, 0.001)), lookback: 100 })).toThrow(/lookback/);
  });

  it('on real BTC: long in the 2021 bull leg, not in the 2022 bear market', () => {
    const btc = krakenHourly('BTC');
    const at = (iso: string) => baselineProvider.signal(btc, Date.parse(iso))!;
    // Late October 2021, a month into the rally to the all-time high; mid-June 2022, after the LUNA and Celsius collapses.
    expect(at('2021-10-20T00:00:00Z').probUp).toBeGreaterThan(0.5);
    expect(at('2022-06-15T00:00:00Z').probUp).toBeLessThan(0.47);
    expect(at('2022-06-15T00:00:00Z').regime.label).toBe('bear');
  });

  it('a research provider takes other options under its own name', () => {
    const p = trendProvider({ lags: [168], volWindow: 168, atrWindow: 24, lookback: 200 }, 'trend-short');
    expect(p).toMatchObject({ name: 'trend-short', lookback: 200 });
    const c = bars(300, 0.001);
    expect(p.signal(c, asOfEnd(c))?.probUp).toBeGreaterThan(0.5);
  });
});

describe('normalCdf', () => {
  it.each([
    [0, 0.5],
    [1, 0.8413447],
    [-1, 0.1586553],
    [1.96, 0.9750021],
    [-3, 0.0013499],
  ])('Φ(%d) ≈ %d', (x, want) => expect(normalCdf(x)).toBeCloseTo(want, 6));
});
