import { describe, expect, it } from 'vitest';
import { closeTime, type Candle } from '../../../lib/market/candle.ts';
import { baselineSignal, baselineWarmup, defaultBaselineOptions } from '../../../lib/strategy/baseline.ts';
import { bars, krakenHourly } from './ohlcv.ts';

const H = 3_600_000;

const asOfEnd = (c: Candle[]) => closeTime(c[c.length - 1]!);

describe('baselineSignal', () => {
  it('describes itself: version, pair, time of the last closed candle, horizon', () => {
    const c = bars(400, 0.001);
    const s = baselineSignal(c, { asOf: asOfEnd(c) });
    expect(s).toMatchObject({ modelVersion: 'baseline-v1', pair: 'BTC/USD', time: c[399]!.openTime, horizonBars: 24 });
    expect(s.regime.probs.bull + s.regime.probs.bear + s.regime.probs.sideways).toBeCloseTo(1, 12);
  });

  it.each([
    ['steady uptrend', 0.002, 'bull', (p: number) => p > 0.7],
    ['steady downtrend', -0.002, 'bear', (p: number) => p < 0.3],
    ['flat', 0, 'sideways', (p: number) => p === 0.5],
  ] as const)('%s → regime %s', (_name, drift, regime, probOk) => {
    const c = bars(400, drift, drift === 0 ? 0 : 0.004);
    const s = baselineSignal(c, { asOf: asOfEnd(c) });
    expect(s.regime.label).toBe(regime);
    expect(probOk(s.probUp)).toBe(true);
    expect(Math.sign(s.expectedReturn)).toBe(Math.sign(s.probUp - 0.5));
  });

  it('probUp rises monotonically with trend strength', () => {
    const ps = [-0.003, -0.001, 0, 0.0005, 0.001, 0.002, 0.004].map((d) => {
      const c = bars(400, d);
      return baselineSignal(c, { asOf: asOfEnd(c) }).probUp;
    });
    for (let i = 1; i < ps.length; i++) expect(ps[i]!).toBeGreaterThan(ps[i - 1]!);
  });

  it('the volatility filter caps probUp at 0.5 when ATR is above maxAtrPct', () => {
    const c = bars(400, 0.01, 0.08); // strong trend, very wide bars
    expect(baselineSignal(c, { asOf: asOfEnd(c), maxAtrPct: 1 }).probUp).toBeGreaterThan(0.6);
    const filtered = baselineSignal(c, { asOf: asOfEnd(c) });
    expect(filtered.atrPct).toBeGreaterThan(defaultBaselineOptions.maxAtrPct);
    expect(filtered.probUp).toBe(0.5);
  });

  it('is causal: the open candle and anything after asOf are ignored', () => {
    const c = bars(500, 0.001);
    const asOf = closeTime(c[399]!);
    const cut = baselineSignal(c.slice(0, 400), { asOf });
    // Same decision time with the still-open bar 400 and future bars present (one a crash).
    const withFuture = c.map((b, i) => (i === 450 ? { ...b, close: 1, low: 1 } : b));
    expect(baselineSignal(withFuture, { asOf })).toEqual(cut);
    expect(baselineSignal(c, { asOf: asOf + H - 1 })).toEqual(cut);
  });

  it('depends only on the last `lookback` closed candles (live 720 vs a long history agree)', () => {
    const all = krakenHourly('ETH');
    const end = 10_000;
    const asOf = closeTime(all[end - 1]!);
    expect(baselineSignal(all.slice(0, end), { asOf })).toEqual(baselineSignal(all.slice(end - 720, end), { asOf }));
  });

  it.each([
    ['too few closed candles', bars(baselineWarmup(defaultBaselineOptions) - 1, 0.001), {}],
    ['fast not below slow', bars(400, 0.001), { fastPeriod: 48, slowPeriod: 48 }],
    ['lookback shorter than the warm-up', bars(400, 0.001), { lookback: 50 }],
  ])('rejects %s', (_name, c, over) => {
    expect(() => baselineSignal(c, { asOf: asOfEnd(c), ...over })).toThrow(RangeError);
  });

  it('rejects mixed pairs and unordered candles', () => {
    const c = bars(400, 0.001);
    const mixed = [...c.slice(0, 399), { ...c[399]!, pair: 'ETH/USD' }];
    expect(() => baselineSignal(mixed, { asOf: asOfEnd(c) })).toThrow(/one pair/);
    const swapped = [...c.slice(0, 398), c[399]!, c[398]!];
    expect(() => baselineSignal(swapped, { asOf: asOfEnd(c) + H })).toThrow(/ascending/);
  });

  it('on real Kraken BTC hours gives valid signals and reads the 2022 bear market as bear more than bull', () => {
    const all = krakenHourly('BTC');
    const counts = { bull: 0, bear: 0, sideways: 0 };
    for (let end = 720; end <= all.length; end += 24) {
      const s = baselineSignal(all.slice(0, end), { asOf: closeTime(all[end - 1]!) });
      expect(s.probUp).toBeGreaterThanOrEqual(0);
      expect(s.probUp).toBeLessThanOrEqual(1);
      expect(s.atrPct).toBeGreaterThan(0);
      expect(s.volatility).toBeGreaterThan(0);
      if (s.time >= Date.UTC(2022, 0, 1) && s.time < Date.UTC(2023, 0, 1)) counts[s.regime.label]++;
    }
    expect(counts.bear).toBeGreaterThan(counts.bull);
  });
});
