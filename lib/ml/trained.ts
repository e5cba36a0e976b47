import { z } from 'zod';
import { classifierFromJSON, type Classifier } from './models/index.ts';
import { driftReferenceSchema, type DriftReference } from './drift.ts';
import type { FeatureParams } from './features.ts';

/** A fitted classifier plus everything needed to score, explain and monitor it. */
export interface TrainedModelData {
  featureNames: string[];
  featureSetHash: string;
  featureParams: FeatureParams;
  horizonBars: number;
  feeRate: number;
  /** Mean gross forward return of training rows labelled 1 / 0: expectedReturn = p·pos + (1−p)·neg. */
  meanReturn: { pos: number; neg: number };
  reference: DriftReference;
  window: { from: number; to: number; rows: number; pairs: string[] };
}

const dataSchema = z.object({
  featureNames: z.array(z.string()),
  featureSetHash: z.string().regex(/^[0-9a-f]{64}$/),
  featureParams: z.custom<FeatureParams>((v) => typeof v === 'object' && v !== null),
  horizonBars: z.number().int().positive(),
  feeRate: z.number().nonnegative(),
  meanReturn: z.object({ pos: z.number(), neg: z.number() }),
  reference: driftReferenceSchema,
  window: z.object({ from: z.number(), to: z.number(), rows: z.number().int(), pairs: z.array(z.string()) }),
  classifier: z.unknown(),
});

export class TrainedModel {
  constructor(readonly classifier: Classifier, readonly data: TrainedModelData) {}

  get kind(): Classifier['kind'] {
    return this.classifier.kind;
  }

  predictProba(x: ArrayLike<number>): number {
    if (x.length !== this.data.featureNames.length) throw new Error(`model expects ${this.data.featureNames.length} features, got ${x.length}`);
    return this.classifier.predictProba(x);
  }

  expectedReturn(p: number): number {
    return p * this.data.meanReturn.pos + (1 - p) * this.data.meanReturn.neg;
  }

  toJSON(): TrainedModelData & { classifier: unknown } {
    return { ...this.data, classifier: this.classifier.toJSON() };
  }

  static fromJSON(j: unknown): TrainedModel {
    const v = dataSchema.parse(j);
    const { classifier, ...data } = v;
    return new TrainedModel(classifierFromJSON(classifier), data as TrainedModelData);
  }
}
