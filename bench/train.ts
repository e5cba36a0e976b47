/**
 * Retrain and inference cost on the repository data: 3 pairs of real Kraken 1h candles (≈2 years,
 * BTC/ETH 2021-01..2023-01, SOL 2021-06..2023-06). retrain_s is one full `train()` (features, labels,
 * 5-fold purged walk-forward CV and the final fit) of the gradient-boosted model; inference_ms is one
 * signal from the incremental FeatureState, the candle push and feature update included.
 */
import { fileURLToPath } from 'node:url';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { buildRows } from '../lib/ml/dataset.ts';
import { FeatureState } from '../lib/ml/features.ts';
import { MlSignalModel } from '../lib/ml/signalModel.ts';
import { DEFAULT_TRAIN_OPTIONS, fitTrainedModel, train } from '../lib/ml/train.ts';

const file = (name: string): string => fileURLToPath(new URL(`../data/ohlcv/kraken_${name}_1h.csv`, import.meta.url));
const data: Record<string, Candle[]> = {
  'BTC/USD': readCandlesCsv(file('BTCUSD'), 'BTC/USD'),
  'ETH/USD': readCandlesCsv(file('ETHUSD'), 'ETH/USD'),
  'SOL/USD': readCandlesCsv(file('SOLUSD'), 'SOL/USD'),
};
const candles = Object.values(data).reduce((n, c) => n + c.length, 0);

const secs = (t0: number): number => (performance.now() - t0) / 1000;

let t0 = performance.now();
const rows = buildRows(data);
const featuresS = secs(t0);
const labelled = rows.filter((r) => r.y !== null).length;

t0 = performance.now();
const fitLogistic = fitTrainedModel(rows, { ...DEFAULT_TRAIN_OPTIONS, model: { kind: 'logistic' } });
const logisticFitS = secs(t0);
t0 = performance.now();
fitTrainedModel(rows, { ...DEFAULT_TRAIN_OPTIONS, model: { kind: 'gbt' } });
const gbtFitS = secs(t0);

t0 = performance.now();
const { model, metrics } = train(data, { model: { kind: 'gbt' } });
const retrainS = secs(t0);

/** Average cost of push + signal over the last `n` ETH candles, after warming the state on the rest. */
function inferenceMs(sm: MlSignalModel, n: number): number {
  const eth = data['ETH/USD'] as Candle[];
  const btc = data['BTC/USD'] as Candle[];
  const st = new FeatureState('ETH/USD');
  const split = eth.length - n;
  let j = 0;
  const feed = (c: Candle): void => {
    while (j < btc.length && (btc[j] as Candle).openTime <= c.openTime) st.pushBtc(btc[j++] as Candle);
    st.push(c);
  };
  for (const c of eth.slice(0, split)) feed(c);
  let signals = 0;
  const t = performance.now();
  for (const c of eth.slice(split)) {
    feed(c);
    if (sm.signal(st)) signals++;
  }
  const ms = (performance.now() - t) / n;
  if (signals !== n) throw new Error(`expected ${n} signals, got ${signals}`);
  return ms;
}

const gbtMs = inferenceMs(new MlSignalModel(model, 'bench-gbt'), 2000);
const logisticMs = inferenceMs(new MlSignalModel(fitLogistic, 'bench-logistic'), 2000);

console.log(`candles ${candles} (3 pairs), feature rows ${rows.length}, labelled ${labelled}; features+labels ${featuresS.toFixed(2)} s`);
console.log(`single fit on all rows: logistic (Newton/IRLS) ${logisticFitS.toFixed(2)} s, gbt (${model.classifier.kind === 'gbt' ? model.classifier.trees.length : 0} trees, histogram splits) ${gbtFitS.toFixed(2)} s`);
console.log(`train() = 5-fold purged walk-forward CV + final fit (gbt): ${retrainS.toFixed(2)} s; CV AUC ${metrics.auc.toFixed(4)} logloss ${metrics.logLoss.toFixed(4)} Brier ${metrics.brier.toFixed(4)}`);
console.log(`inference (push candle + features + signal): gbt ${(gbtMs * 1000).toFixed(1)} µs, logistic ${(logisticMs * 1000).toFixed(1)} µs`);
console.log(`bench train: retrain_s=${retrainS.toFixed(2)} inference_ms=${gbtMs.toFixed(4)} rows=${labelled} pairs=${Object.keys(data).length} fit_gbt_s=${gbtFitS.toFixed(2)} fit_logistic_s=${logisticFitS.toFixed(2)} inference_logistic_ms=${logisticMs.toFixed(4)}`);
