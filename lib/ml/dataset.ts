import type { Candle } from '../market/candle.ts';
import { BTC_PAIR, DEFAULT_FEATURE_PARAMS, featureMatrix, type FeatureParams } from './features.ts';
import { DEFAULT_LABEL_OPTIONS, forwardLabels, type LabelOptions } from './labels.ts';

/** One scored bar: features after candle i, its label (null while the horizon is open) and the next bar's return. */
export interface Row {
  pair: string;
  time: number; // open time of the candle the features end with
  decisionTime: number; // its close time: when the row can be scored
  labelEnd: number; // when the label becomes known (Infinity if unknown)
  x: Float64Array;
  y: 0 | 1 | null;
  grossReturn: number; // forward return over the horizon (NaN if unknown)
  nextReturn: number; // close[i+1]/close[i] - 1, the return a position taken at decisionTime earns (NaN at the end)
}

export type CandlesByPair = Readonly<Record<string, readonly Candle[]>>;

/** Rows of every pair, sorted by time then pair. Non-BTC pairs take their cross-asset features from candlesByPair['BTC/USD']. */
export function buildRows(candlesByPair: CandlesByPair, label: LabelOptions = DEFAULT_LABEL_OPTIONS, features: FeatureParams = DEFAULT_FEATURE_PARAMS): Row[] {
  const btc = candlesByPair[BTC_PAIR];
  const rows: Row[] = [];
  for (const [pair, candles] of Object.entries(candlesByPair)) {
    for (const c of candles) if (c.pair !== pair) throw new Error(`candlesByPair['${pair}'] holds a ${c.pair} candle`);
    const X = featureMatrix(candles, pair === BTC_PAIR ? undefined : btc, features);
    const L = forwardLabels(candles, label);
    candles.forEach((c, i) => {
      const x = X[i];
      if (!x) return;
      const l = L[i];
      const next = candles[i + 1];
      rows.push({
        pair,
        time: c.openTime,
        decisionTime: c.openTime + c.interval * 1000,
        labelEnd: l ? l.endTime : Infinity,
        x,
        y: l ? l.y : null,
        grossReturn: l ? l.grossReturn : NaN,
        nextReturn: next ? next.close / c.close - 1 : NaN,
      });
    });
  }
  rows.sort((a, b) => a.time - b.time || (a.pair < b.pair ? -1 : a.pair > b.pair ? 1 : 0));
  return rows;
}
