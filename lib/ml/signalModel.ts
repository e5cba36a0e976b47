import type { Signal } from '../strategy/signal.ts';
import type { FeatureState } from './features.ts';
import type { TrainedModel } from './trained.ts';

/** Scores a pair's FeatureState into the strategy's Signal. */
export class MlSignalModel {
  private readonly hash: string;
  constructor(readonly model: TrainedModel, readonly version: string) {
    this.hash = model.data.featureSetHash;
  }

  /** The signal after the state's last candle, or null while features or the regime are warming up. */
  signal(state: FeatureState): Signal | null {
    if (state.featureSetHash !== this.hash) throw new Error(`model ${this.version} was trained on another feature set than ${state.pair}'s FeatureState`);
    const x = state.features();
    const regime = state.regime();
    const last = state.lastCandle;
    if (!x || !regime || !last) return null;
    const probUp = this.model.predictProba(x);
    return {
      pair: state.pair,
      time: last.openTime,
      probUp,
      expectedReturn: this.model.expectedReturn(probUp),
      horizonBars: this.model.data.horizonBars,
      regime,
      volatility: state.volatility(),
      atrPct: state.atrPct(),
      modelVersion: this.version,
    };
  }
}
