/**
 * Retrain and inference cost on the repository data: 3 pairs of real Kraken 1h candles (≈2 years,
 * BTC/ETH 2021-01..2023-01, SOL 2021-06..2023-06). retrain_s is one full `train()` (features, labels,
 * 5-fold purged walk-forward CV and the final fit) of the gradient-boosted model; inference_ms is one
 * signal from the incremental FeatureState, the candle push and feature update included.
 * promotion_sim_s is what a full retrain adds to judge a challenger in the live cycle: three runs of
 * the cycle's backtest (challenger, champion, baseline) over a held-out week of the 3 pairs.
 */
import { fileURLToPath } from 'node:url';
import type { Candle } from '../lib/market/candle.ts';
import { readCandlesCsv } from '../lib/market/csv.ts';
import { buildRows } from '../lib/ml/dataset.ts';
import { FeatureState } from '../lib/ml/features.ts';
import { mlProvider } from '../lib/cycle/ml-provider.ts';
import { baselineProvider } from '../lib/cycle/signals.ts';
import { USD_MARKETS } from '../lib/exchange/usd-markets.ts';
import { hedgeSettingsSchema } from '../lib/hedge/settings.ts';
import { DEFAULT_HOLDOUT } from '../lib/ml/holdout.ts';
import { MlSignalModel } from '../lib/ml/signalModel.ts';
import { simulateProviders } from '../lib/ml/simulation.ts';
import { riskSettingsSchema } from '../lib/risk/settings.ts';
import { tradingSettingsSchema } from '../lib/strategy/settings.ts';
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

// The held-out week ends where the shortest series (BTC/ETH) ends: every pair trades in it.
const end = Math.min(...Object.values(data).map((cs) => cs[cs.length - 1]!.openTime + 3_600_000));
const held = Object.fromEntries(Object.entries(data).map(([p, cs]) => [p, cs.filter((c) => c.openTime + 3_600_000 <= end)]));
const account = { id: 'defaults', initialUsd: 10_000, settings: { trading: tradingSettingsSchema.parse({ pairs: Object.keys(data) }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) } };
t0 = performance.now();
const sims = await simulateProviders({
  candles: held,
  markets: USD_MARKETS,
  accounts: [account],
  from: end - (DEFAULT_HOLDOUT.evalBars + 24) * 3_600_000,
  providers: { challenger: mlProvider(model, 'bench-challenger'), champion: mlProvider(fitLogistic, 'bench-champion'), baseline: baselineProvider },
});
const promotionSimS = secs(t0);

const gbtMs = inferenceMs(new MlSignalModel(model, 'bench-gbt'), 2000);
const logisticMs = inferenceMs(new MlSignalModel(fitLogistic, 'bench-logistic'), 2000);

console.log(`candles ${candles} (3 pairs), feature rows ${rows.length}, labelled ${labelled}; features+labels ${featuresS.toFixed(2)} s`);
console.log(`single fit on all rows: logistic (Newton/IRLS) ${logisticFitS.toFixed(2)} s, gbt (${model.classifier.kind === 'gbt' ? model.classifier.trees.length : 0} trees, histogram splits) ${gbtFitS.toFixed(2)} s`);
console.log(`train() = 5-fold purged walk-forward CV + final fit (gbt): ${retrainS.toFixed(2)} s; CV AUC ${metrics.auc.toFixed(4)} logloss ${metrics.logLoss.toFixed(4)} Brier ${metrics.brier.toFixed(4)}`);
console.log(`promotion simulation (3 backtests of the live cycle over ${DEFAULT_HOLDOUT.evalBars + 24} bars): ${promotionSimS.toFixed(2)} s; ${Object.entries(sims).map(([k, v]) => `${k} ${(v.totalReturn * 100).toFixed(2)} %`).join(', ')}`);
console.log(`inference (push candle + features + signal): gbt ${(gbtMs * 1000).toFixed(1)} µs, logistic ${(logisticMs * 1000).toFixed(1)} µs`);
console.log(`bench train: retrain_s=${retrainS.toFixed(2)} inference_ms=${gbtMs.toFixed(4)} rows=${labelled} pairs=${Object.keys(data).length} fit_gbt_s=${gbtFitS.toFixed(2)} fit_logistic_s=${logisticFitS.toFixed(2)} inference_logistic_ms=${logisticMs.toFixed(4)} promotion_sim_s=${promotionSimS.toFixed(2)}`);
