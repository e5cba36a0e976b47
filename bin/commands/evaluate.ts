import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Candle } from '../../lib/market/candle.ts';
import { readCandlesCsv } from '../../lib/market/csv.ts';
import { BTC_PAIR, DEFAULT_FEATURE_PARAMS, featureSetHash } from '../../lib/ml/features.ts';
import { DEFAULT_LABEL_OPTIONS } from '../../lib/ml/labels.ts';
import type { ModelKind } from '../../lib/ml/models/index.ts';
import { validateRegimes } from '../../lib/ml/regime.ts';
import { DEFAULT_TRAIN_OPTIONS, crossValidate, fitTrainedModel, summarize, type TrainOptions } from '../../lib/ml/train.ts';
import { buildRows } from '../../lib/ml/dataset.ts';
import { walkForwardBacktest } from '../../lib/ml/walkforward.ts';
import { args, type Help } from '../args.ts';

const USAGE = `usage: aether evaluate --data PAIR=FILE [--data PAIR=FILE …] --out DIR
  [--models gbt,logistic] [--folds 5] [--horizon 24] [--threshold 0.55] [--exit-threshold T] [--fee 0.0026] [--retrain-every 720]
  PAIR is a unified symbol (BTC/USD); non-BTC pairs need BTC/USD data too (cross-asset features).`;

const fail = (msg: string): number => {
  process.stderr.write(`aether evaluate: ${msg}\n${USAGE}\n`);
  return 2;
};

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = args(argv, {
      data: { type: 'string', multiple: true },
      out: { type: 'string' },
      models: { type: 'string', default: 'gbt,logistic' },
      folds: { type: 'string', default: '5' },
      horizon: { type: 'string', default: String(DEFAULT_LABEL_OPTIONS.horizonBars) },
      threshold: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.threshold) },
      'exit-threshold': { type: 'string' },
      fee: { type: 'string', default: String(DEFAULT_LABEL_OPTIONS.feeRate) },
      'retrain-every': { type: 'string', default: '720' },
      'min-train': { type: 'string', default: '4320' },
    }));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (!values.data?.length) return fail('at least one --data PAIR=FILE is required');
  if (!values.out) return fail('--out DIR is required');
  const folds = Number(values.folds);
  const horizon = Number(values.horizon);
  const threshold = Number(values.threshold);
  const fee = Number(values.fee);
  const exitThreshold = values['exit-threshold'] === undefined ? threshold : Number(values['exit-threshold']);
  const retrainEvery = Number(values['retrain-every']);
  const minTrain = Number(values['min-train']);
  if (!Number.isInteger(folds) || folds < 1) return fail(`--folds must be a positive integer, got ${values.folds}`);
  if (!Number.isInteger(horizon) || horizon < 1) return fail(`--horizon must be a positive integer, got ${values.horizon}`);
  if (!(threshold > 0 && threshold < 1)) return fail(`--threshold must be in (0, 1), got ${values.threshold}`);
  if (!(exitThreshold > 0 && exitThreshold <= threshold)) return fail(`--exit-threshold must be in (0, threshold], got ${values['exit-threshold']}`);
  if (!(fee >= 0 && fee < 0.1)) return fail(`--fee must be a fraction in [0, 0.1), got ${values.fee}`);
  if (!Number.isInteger(retrainEvery) || retrainEvery < 1) return fail(`--retrain-every must be a positive integer, got ${values['retrain-every']}`);
  if (!Number.isInteger(minTrain) || minTrain < 1) return fail(`--min-train must be a positive integer, got ${values['min-train']}`);
  const kinds = values.models.split(',').map((s) => s.trim());
  for (const k of kinds) if (k !== 'gbt' && k !== 'logistic') return fail(`unknown model "${k}" (gbt, logistic)`);

  const candlesByPair: Record<string, Candle[]> = {};
  const files: Record<string, string> = {};
  for (const spec of values.data) {
    const m = /^([A-Z0-9]+\/USD)=(.+)$/.exec(spec);
    if (!m) return fail(`--data must look like BTC/USD=path/to/file.csv, got "${spec}"`);
    const [, pair, file] = m as unknown as [string, string, string];
    if (candlesByPair[pair]) return fail(`--data given twice for ${pair}`);
    try {
      candlesByPair[pair] = readCandlesCsv(resolve(file), pair);
    } catch (e) {
      return fail((e as Error).message);
    }
    files[pair] = file;
  }
  if (Object.keys(candlesByPair).some((p) => p !== BTC_PAIR) && !candlesByPair[BTC_PAIR]) return fail('non-BTC pairs need --data BTC/USD=FILE for their cross-asset features');
  const intervals = new Set(Object.values(candlesByPair).map((c) => c[0]?.interval));
  if (intervals.size !== 1) return fail(`all files must share one interval, got ${[...intervals].join(', ')} s`);

  const base: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    label: { horizonBars: horizon, feeRate: fee },
    features: DEFAULT_FEATURE_PARAMS,
    cv: { ...(DEFAULT_TRAIN_OPTIONS.cv as NonNullable<TrainOptions['cv']>), folds, embargoMs: horizon * [...intervals][0]! * 1000 },
    threshold,
    exitThreshold,
  };
  const rows = buildRows(candlesByPair, base.label, base.features);
  console.log(`evaluate: ${Object.entries(candlesByPair).map(([p, c]) => `${p} ${c.length} candles ${day(c[0]!.openTime)}..${day(c.at(-1)!.openTime)}`).join('; ')}`);
  console.log(`evaluate: ${rows.length} feature rows, horizon ${horizon} bars, fee ${pct(fee)} per side, long when p > ${threshold}${exitThreshold < threshold ? ` until p <= ${exitThreshold}` : ''}, feature set ${featureSetHash(base.features).slice(0, 12)}`);

  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const report: Record<string, unknown> = { files, options: { folds, horizon, threshold, exitThreshold, fee, retrainEvery, minTrain, cv: base.cv }, featureSetHash: featureSetHash(base.features), models: {} };

  for (const kind of kinds as ModelKind[]) {
    const opts: TrainOptions = { ...base, model: { kind } };
    const t0 = performance.now();
    const foldResults = crossValidate(rows, opts);
    const summary = summarize(foldResults);
    console.log(`\n[${kind}] purged walk-forward CV (${folds} folds, embargo ${horizon} bars)`);
    console.log('fold  test window              train   test  purged  pos%    AUC     logloss (base)    Brier (base)      strategy  buy&hold');
    for (const f of foldResults) {
      console.log(
        `${String(f.fold).padEnd(5)} ${day(f.testFrom)}..${day(f.testTo)}   ${String(f.trainRows).padStart(6)} ${String(f.testRows).padStart(6)} ${String(f.purged).padStart(6)}  ${(f.positiveRate * 100).toFixed(1).padStart(5)}  ${f.auc.toFixed(4)}  ${f.logLoss.toFixed(4)} (${f.baseRateLogLoss.toFixed(4)})  ${f.brier.toFixed(4)} (${f.baseRateBrier.toFixed(4)})  ${pct(f.strategyReturn).padStart(8)}  ${pct(f.buyHoldReturn).padStart(8)}`,
      );
    }
    console.log(`mean  AUC ${summary.auc.toFixed(4)}  logloss ${summary.logLoss.toFixed(4)} (base rate ${summary.baseRateLogLoss.toFixed(4)})  Brier ${summary.brier.toFixed(4)} (base rate ${summary.baseRateBrier.toFixed(4)})  strategy ${pct(summary.strategyReturn)} vs buy&hold ${pct(summary.buyHoldReturn)} (compounded over folds, equal-weight pairs)`);

    const wf = walkForwardBacktest(candlesByPair, { ...opts, retrainEveryBars: retrainEvery, minTrainBars: minTrain, ema: [24, 96] });
    console.log(`[${kind}] walk-forward backtest: first fit after ${minTrain} bars, retrain every ${retrainEvery} bars, ${wf.retrains.length} retrains, net of fees`);
    for (const p of wf.perPair) {
      console.log(`  ${p.pair.padEnd(8)} ${day(p.from)}..${day(p.to)}  model ${pct(p.strategy).padStart(9)} (${p.trades} trades, ${pct(p.exposure)} long)  buy&hold ${pct(p.buyHold).padStart(9)}  EMA(24/96) ${pct(p.emaCrossover).padStart(9)} (${p.emaTrades} trades)`);
    }
    console.log(`  mean     model ${pct(wf.mean.strategy)}  buy&hold ${pct(wf.mean.buyHold)}  EMA ${pct(wf.mean.emaCrossover)}`);
    const model = fitTrainedModel(rows, opts, foldResults.length ? summary.brier : undefined);
    writeFileSync(join(out, `model-${kind}.json`), JSON.stringify(model.toJSON()));
    console.log(`[${kind}] ${((performance.now() - t0) / 1000).toFixed(1)} s; final model written to ${join(out, `model-${kind}.json`)}`);
    (report.models as Record<string, unknown>)[kind] = { folds: foldResults, summary, walkForward: { retrains: wf.retrains, perPair: wf.perPair, mean: wf.mean } };
  }

  const btc = candlesByPair[BTC_PAIR];
  if (btc) {
    const r = validateRegimes(btc);
    console.log(`\nregime agreement on BTC/USD: ${pct(r.agreement)} of ${r.bars} labelled bars`);
    for (const p of r.periods) console.log(`  ${p.from}..${p.to} ${p.regime.padEnd(8)} ${pct(p.agreement).padStart(7)} of ${p.bars} bars (bull ${p.detected.bull} / bear ${p.detected.bear} / sideways ${p.detected.sideways})`);
    report.regime = r;
  } else {
    console.log('\nregime agreement: skipped (the labelled periods are BTC/USD periods)');
    report.regime = null;
  }
  writeFileSync(join(out, 'evaluation.json'), JSON.stringify(report, null, 2));
  console.log(`\nwrote ${join(out, 'evaluation.json')}`);
  return 0;
}

export const help: Help = {
  usage: 'aether evaluate --data PAIR=FILE [--data PAIR=FILE …] --out DIR [flags]',
  about: 'Walk-forward evaluation of the ML models on candle files: cross-validated scores and a simple\nthreshold strategy per model, written to DIR. Non-BTC pairs need BTC/USD data too (cross-asset features).',
  flags: [
    ['--data PAIR=FILE', 'a USD pair and its candle CSV; repeatable'],
    ['--out DIR', 'where the results go'],
    ['--models LIST', 'gbt,logistic (default both)'],
    ['--folds N', 'cross-validation folds (default 5)'],
    ['--horizon BARS', 'label horizon in bars (default 24)'],
    ['--threshold P', 'probability to enter (default 0.55)'],
    ['--exit-threshold P', 'probability below which to exit (default: --threshold)'],
    ['--fee F', 'fee per side as a fraction (default 0.0026)'],
    ['--retrain-every BARS', 'walk-forward refit cadence (default 720)'],
    ['--min-train BARS', 'bars before the first fit (default 4320)'],
  ],
  examples: ['aether evaluate --data BTC/USD=data/ohlcv/kraken_BTCUSD_1h.csv --data ETH/USD=data/ohlcv/kraken_ETHUSD_1h.csv --out /tmp/eval'],
};
