import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { DEFAULT_FEATURE_PARAMS, FeatureState, featureMatrix, featureNames, featureSetHash } from '../../../lib/ml/features.ts';
import { slice } from './realData.ts';

const btc = slice('BTC/USD', '2021-06-01', '2021-09-01');
const eth = slice('ETH/USD', '2021-06-01', '2021-09-01');
const sol = slice('SOL/USD', '2021-06-01', '2021-09-01');
const name = (n: string): number => featureNames().indexOf(n);

describe('FeatureState', () => {
  it('incremental pushes (BTC interleaved as a live scorer would) equal the batch matrix exactly', () => {
    const batch = featureMatrix(eth, btc);
    const st = new FeatureState('ETH/USD');
    let j = 0;
    const live = eth.map((c) => {
      while (j < btc.length && (btc[j] as Candle).openTime <= c.openTime) st.pushBtc(btc[j++] as Candle);
      st.push(c);
      return st.features();
    });
    expect(batch.filter(Boolean).length).toBeGreaterThan(1000);
    expect(live).toEqual(batch);
  });

  it('truncating the candles at any T leaves every earlier feature row unchanged', () => {
    const full = { 'ETH/USD': featureMatrix(eth, btc), 'SOL/USD': featureMatrix(sol, btc), 'BTC/USD': featureMatrix(btc) };
    const data = { 'ETH/USD': eth, 'SOL/USD': sol, 'BTC/USD': btc };
    fc.assert(
      fc.property(fc.constantFrom('ETH/USD', 'SOL/USD', 'BTC/USD') as fc.Arbitrary<keyof typeof data>, fc.integer({ min: 700, max: eth.length - 1 }), (pair, cut) => {
        const candles = data[pair].slice(0, cut);
        const T = (candles[candles.length - 1] as Candle).openTime;
        const btcCut = btc.filter((c) => c.openTime <= T);
        const rows = featureMatrix(candles, pair === 'BTC/USD' ? undefined : btcCut);
        expect(rows).toEqual(full[pair].slice(0, cut));
      }),
      { numRuns: 12, seed: 7 },
    );
  });

  it('computes returns, calendar and cross-asset features from the right bars', () => {
    const rows = featureMatrix(eth, btc);
    const i = rows.findIndex(Boolean) + 50;
    const x = rows[i] as Float64Array;
    const c = eth[i] as Candle;
    expect(x[name('ret_1')]).toBeCloseTo(Math.log(c.close / (eth[i - 1] as Candle).close), 14);
    expect(x[name('ret_24')]).toBeCloseTo(Math.log(c.close / (eth[i - 24] as Candle).close), 14);
    const b = btc.filter((k) => k.openTime <= c.openTime);
    const bl = b[b.length - 1] as Candle;
    expect(x[name('btc_ret_24')]).toBeCloseTo(Math.log(bl.close / (b[b.length - 25] as Candle).close), 14);
    const d = new Date(c.openTime);
    expect(x[name('hour_sin')]).toBeCloseTo(Math.sin((2 * Math.PI * d.getUTCHours()) / 24), 12);
    expect(x[name('dow_cos')]).toBeCloseTo(Math.cos((2 * Math.PI * d.getUTCDay()) / 7), 12);
    expect(x[name('rsi_14')]).toBeGreaterThanOrEqual(-1);
    expect(x[name('rsi_14')]).toBeLessThanOrEqual(1);
    expect(x[name('atr_pct_14')]).toBeGreaterThan(0);
  });

  it('refuses a non-BTC pair without BTC candles, and stale BTC makes rows unavailable', () => {
    expect(() => featureMatrix(eth)).toThrow(/BTC\/USD candles/);
    const early = btc.slice(0, 1000);
    const rows = featureMatrix(eth, early);
    const lastBtc = (early[early.length - 1] as Candle).openTime;
    const staleAfter = eth.findIndex((c) => c.openTime - lastBtc > DEFAULT_FEATURE_PARAMS.maxBtcStaleBars * 3_600_000);
    expect(rows.slice(staleAfter).every((r) => r === null)).toBe(true);
    expect(rows.slice(0, staleAfter).some((r) => r !== null)).toBe(true);
  });

  it('rejects candles out of order and foreign pairs', () => {
    const st = new FeatureState('ETH/USD');
    st.push(eth[1] as Candle);
    expect(() => st.push(eth[0] as Candle)).toThrow(/out of order/);
    expect(() => st.push(btc[5] as Candle)).toThrow(/BTC\/USD candle/);
  });

  it('hashes names and parameters', () => {
    expect(featureSetHash()).toMatch(/^[0-9a-f]{64}$/);
    expect(featureSetHash()).toBe(featureSetHash({ ...DEFAULT_FEATURE_PARAMS }));
    expect(featureSetHash({ ...DEFAULT_FEATURE_PARAMS, rsiPeriod: 21 })).not.toBe(featureSetHash());
  });
});
