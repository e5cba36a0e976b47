import type { Candle } from '../market/candle.ts';
import { BTC_PAIR, FeatureState, type FeatureParams } from '../ml/features.ts';
import { buildRows, type CandlesByPair } from '../ml/dataset.ts';
import { MlSignalModel } from '../ml/signalModel.ts';
import { DEFAULT_TRAIN_OPTIONS, fitTrainedModel, type TrainOptions } from '../ml/train.ts';
import type { TrainedModel } from '../ml/trained.ts';
import type { Signal } from '../strategy/signal.ts';
import type { SignalProvider } from './signals.ts';

/**
 * Bars the slowest feature needs before it is defined, plus a margin so the exponentially weighted
 * ones (MACD, RSI, ATR) have forgotten their seed: rebuilt from this window they match a FeatureState
 * fed the whole history to ~1e-6 relative.
 */
export const EMA_MARGIN_BARS = 200;
export function mlLookback(p: FeatureParams): number {
  const need = Math.max(p.regime.longBars + 1, p.regime.volBars + 1, p.volumeWindow, ...p.volWindows.map((w) => w + 1), ...p.returnHorizons.map((h) => h + 1), ...p.btcHorizons.map((h) => h + 1));
  return need + EMA_MARGIN_BARS;
}

const closedBy = (cs: readonly Candle[], asOf: number): readonly Candle[] => {
  let n = cs.length;
  while (n > 0 && cs[n - 1]!.openTime + cs[n - 1]!.interval * 1000 > asOf) n--;
  return n === cs.length ? cs : cs.slice(0, n);
};

/**
 * The FeatureState after the newest `lookback` closed candles of `history` (and the newest `lookback`
 * closed BTC/USD candles), built afresh on every call. Stateless, so `scoreBar` (which loads exactly
 * that window) and the backtest (whole history) see the same features.
 */
export function windowState(history: readonly Candle[], asOf: number, others: Readonly<Record<string, readonly Candle[]>> | undefined, params: FeatureParams, lookback: number): FeatureState | null {
  const own = closedBy(history, asOf).slice(-lookback);
  const first = own[0];
  if (!first) return null;
  const st = new FeatureState(first.pair, params);
  const btc = first.pair === BTC_PAIR ? [] : closedBy(others?.[BTC_PAIR] ?? [], asOf).slice(-lookback);
  let j = 0;
  for (const c of own) {
    while (j < btc.length && btc[j]!.openTime <= c.openTime) st.pushBtc(btc[j++]!);
    st.push(c);
  }
  return st;
}

/** A SignalProvider backed by one trained model; every signal carries the model's version. */
export function mlProvider(model: TrainedModel, version: string): SignalProvider & { readonly version: string } {
  const scorer = new MlSignalModel(model, version);
  const params = model.data.featureParams;
  const lookback = mlLookback(params);
  return {
    name: `ml:${version}`,
    version,
    lookback,
    companions: [BTC_PAIR],
    signal(history, asOf, others): Signal | null {
      const st = windowState(history, asOf, others, params, lookback);
      return st ? scorer.signal(st) : null;
    },
  };
}

export interface WalkForwardProviderOptions {
  /** Retrain at the first decision, then every this many bars (production: 24 bars of 1h = daily). */
  retrainEveryBars: number;
  /** Train on at most this many of the newest closed bars per pair. */
  trainBars: number;
  /** Fewer labelled rows than this (or a single class): no model yet, no signal. */
  minTrainRows: number;
  train: TrainOptions;
  /** Sees exactly what each retrain is fitted on (tests check it never reaches past `asOf`). */
  onTrain?: (asOf: number, candles: CandlesByPair, rows: number) => void;
}

export const DEFAULT_WALK_FORWARD_PROVIDER: WalkForwardProviderOptions = {
  retrainEveryBars: 24,
  trainBars: 2160,
  minTrainRows: 500,
  train: { ...DEFAULT_TRAIN_OPTIONS, cv: null, model: { kind: 'gbt', params: { trees: 40, minLeaf: 100 } } },
};

/**
 * The backtest's ML strategy: at a decision time due for a retrain it fits a model on the candles
 * closed by then only (so every signal is out of sample), then scores like the live provider.
 * Retraining happens inside `signal`, once per decision time, before any pair is scored.
 */
export function walkForwardProvider(options: Partial<WalkForwardProviderOptions> = {}): SignalProvider & { retrains: () => number } {
  const o = { ...DEFAULT_WALK_FORWARD_PROVIDER, ...options };
  const lookback = mlLookback(o.train.features);
  let current: SignalProvider | null = null;
  let nextRetrain = -Infinity;
  let lastAsOf = -Infinity;
  let retrains = 0;
  const retrain = (asOf: number, all: Readonly<Record<string, readonly Candle[]>>): void => {
    const candles: Record<string, readonly Candle[]> = {};
    for (const [pair, cs] of Object.entries(all)) candles[pair] = closedBy(cs, asOf).slice(-o.trainBars);
    const rows = buildRows(candles, o.train.label, o.train.features);
    const labelled = rows.filter((r) => r.y !== null);
    o.onTrain?.(asOf, candles, labelled.length);
    if (labelled.length < o.minTrainRows || new Set(labelled.map((r) => r.y)).size < 2) return;
    const model = fitTrainedModel(rows, o.train);
    retrains++;
    current = mlProvider(model, `walkforward-${new Date(asOf).toISOString()}`);
  };
  return {
    name: 'ml:walk-forward',
    lookback,
    companions: [BTC_PAIR],
    retrains: () => retrains,
    signal(history, asOf, others) {
      if (asOf < lastAsOf) throw new Error(`walk-forward provider: decision time went back from ${lastAsOf} to ${asOf}`);
      lastAsOf = asOf;
      if (asOf >= nextRetrain) {
        const first = history[0];
        if (!others || !first) throw new Error('walk-forward provider needs every pair\'s history (the third argument)');
        retrain(asOf, others);
        nextRetrain = asOf + o.retrainEveryBars * first.interval * 1000;
      }
      return current ? current.signal(history, asOf, others) : null;
    },
  };
}
