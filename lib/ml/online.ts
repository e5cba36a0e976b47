import type { Row } from './dataset.ts';
import { LogisticModel, type GbtModel } from './models/index.ts';
import { TrainedModel } from './trained.ts';

export interface OnlineUpdateOptions {
  /** Logistic: SGD passes over the new rows at this learning rate. */
  epochs: number;
  learningRate: number;
  /** Gradient-boosted trees: boosting rounds added on the new rows. */
  trees: number;
}

export const DEFAULT_ONLINE_UPDATE: OnlineUpdateOptions = { epochs: 2, learningRate: 0.01, trees: 5 };

/**
 * Between full retrains, fold newly labelled rows into the model: a few SGD steps for the logistic
 * model, a few extra boosting rounds for the trees. Rows must be labelled and newer than the model's
 * training window (so no row is learned twice). The drift reference stays the full fit's.
 */
export function onlineUpdate(model: TrainedModel, rows: readonly Row[], opts: OnlineUpdateOptions = DEFAULT_ONLINE_UPDATE): TrainedModel {
  if (rows.length === 0) return model;
  for (const r of rows) {
    if (r.y === null) throw new Error(`online update: row ${r.pair}@${r.time} has no label yet`);
    if (r.time <= model.data.window.to) throw new Error(`online update: row ${r.pair}@${r.time} is inside the training window (to ${model.data.window.to})`);
  }
  const X = rows.map((r) => r.x);
  const y = rows.map((r) => r.y as number);
  const clf = model.classifier;
  const next = clf instanceof LogisticModel ? clf.sgdUpdate(X, y, opts) : (clf as GbtModel).extend(X, y, opts.trees);
  const to = Math.max(...rows.map((r) => r.time));
  return new TrainedModel(next, { ...model.data, window: { ...model.data.window, to, rows: model.data.window.rows + rows.length } });
}
