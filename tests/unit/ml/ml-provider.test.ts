import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../../lib/cycle/backtest.ts';
import { mlLookback, mlProvider, walkForwardProvider, windowState } from '../../../lib/cycle/ml-provider.ts';
import { USD_MARKETS } from '../../../lib/exchange/usd-markets.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { DEFAULT_FEATURE_PARAMS, FeatureState, featureMatrix } from '../../../lib/ml/features.ts';
import { DEFAULT_TRAIN_OPTIONS, train } from '../../../lib/ml/train.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';
import { slice } from './realData.ts';

const BTC = slice('BTC/USD', '2022-01-01', '2022-05-01');
const ETH = slice('ETH/USD', '2022-01-01', '2022-05-01');
const HOUR = 3_600_000;
const closeOf = (c: Candle) => c.openTime + c.interval * 1000;
const btcBy = (asOf: number) => BTC.filter((c) => closeOf(c) <= asOf);

const model = train({ 'BTC/USD': BTC.slice(0, 2000), 'ETH/USD': ETH.slice(0, 2000) }, { ...DEFAULT_TRAIN_OPTIONS, cv: null, model: { kind: 'gbt', params: { trees: 15, minLeaf: 50 } } }).model;

describe('ML signal provider', () => {
  const provider = mlProvider(model, 'gbt-test-1');
  const L = provider.lookback;

  it('needs the slowest feature window plus the EMA margin', () => {
    expect(L).toBe(mlLookback(DEFAULT_FEATURE_PARAMS));
    expect(L).toBeGreaterThan(DEFAULT_FEATURE_PARAMS.regime.longBars + 1);
  });

  // scoreBar loads the newest `lookback` bars of the pair and of BTC/USD; the backtest passes everything.
  it.each([2200, 2500, 2850])('gives the same signal from the store window as from the whole history (bar %i)', (i) => {
    const asOf = closeOf(ETH[i]!);
    const full = provider.signal(ETH.slice(0, i + 1), asOf, { 'BTC/USD': btcBy(asOf), 'ETH/USD': ETH.slice(0, i + 1) });
    const window = provider.signal(ETH.slice(i + 1 - L, i + 1), asOf, { 'BTC/USD': btcBy(asOf).slice(-L) });
    expect(full).not.toBeNull();
    expect(window).toEqual(full);
    expect(full!.modelVersion).toBe('gbt-test-1');
    expect(full!.time).toBe(ETH[i]!.openTime);
  });

  it('ignores candles not closed by the decision time (causal)', () => {
    const i = 2400;
    const asOf = closeOf(ETH[i]!);
    const withFuture = provider.signal(ETH.slice(0, i + 30), asOf, { 'BTC/USD': BTC });
    expect(withFuture).toEqual(provider.signal(ETH.slice(0, i + 1), asOf, { 'BTC/USD': btcBy(asOf) }));
  });

  it('window features match a FeatureState fed the whole history to 1e-6', () => {
    const i = 2600;
    const asOf = closeOf(ETH[i]!);
    const st = windowState(ETH.slice(0, i + 1), asOf, { 'BTC/USD': btcBy(asOf) }, DEFAULT_FEATURE_PARAMS, L)!;
    const full = featureMatrix(ETH.slice(0, i + 1), btcBy(asOf))[i]!;
    const x = st.features()!;
    expect(st).toBeInstanceOf(FeatureState);
    x.forEach((v, k) => expect(v).toBeCloseTo(full[k]!, 6));
  });

  it('is null until the window is warm', () => {
    expect(provider.signal(ETH.slice(0, 300), closeOf(ETH[299]!), { 'BTC/USD': btcBy(closeOf(ETH[299]!)) })).toBeNull();
  });
});

describe('walk-forward provider in the backtest', () => {
  it('retrains at the cadence and never trains on a candle that closes after the decision time', async () => {
    const seen: { asOf: number; maxClose: number; rows: number }[] = [];
    const provider = walkForwardProvider({
      retrainEveryBars: 24,
      trainBars: 1500,
      minTrainRows: 300,
      train: { ...DEFAULT_TRAIN_OPTIONS, cv: null, model: { kind: 'logistic' } },
      onTrain: (asOf, candles, rows) => seen.push({ asOf, maxClose: Math.max(...Object.values(candles).flatMap((cs) => cs.map(closeOf))), rows }),
    });
    const settings = { trading: tradingSettingsSchema.parse({ pairs: ['BTC/USD', 'ETH/USD'] }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) };
    const from = BTC[2000]!.openTime;
    const to = from + 72 * HOUR - HOUR;
    const r = await runBacktest({ candles: { 'BTC/USD': BTC, 'ETH/USD': ETH }, markets: USD_MARKETS, accounts: [{ id: 'a', initialUsd: 10_000, settings }], signals: provider, from, to });
    expect(r.equity.length).toBe(72);
    expect(seen.map((s) => s.asOf)).toEqual([0, 24, 48].map((k) => from + HOUR + k * HOUR));
    for (const s of seen) {
      expect(s.maxClose).toBeLessThanOrEqual(s.asOf);
      expect(s.maxClose).toBe(s.asOf); // and it does see the newest closed bar
      expect(s.rows).toBeGreaterThan(300);
    }
    expect(provider.retrains()).toBe(3);
  }, 60_000);
});

describe('feature-set hash', () => {
  it('does not depend on key order (jsonb reorders keys of stored parameters)', () => {
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(DEFAULT_FEATURE_PARAMS).reverse()))) as typeof DEFAULT_FEATURE_PARAMS;
    expect(Object.keys(reordered)[0]).not.toBe(Object.keys(DEFAULT_FEATURE_PARAMS)[0]);
    expect(new FeatureState('ETH/USD', reordered).featureSetHash).toBe(new FeatureState('ETH/USD', DEFAULT_FEATURE_PARAMS).featureSetHash);
  });
});
