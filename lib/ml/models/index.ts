import { GbtModel, type GbtJSON, type GbtParams } from './gbt.ts';
import { LogisticModel, type LogisticJSON, type LogisticParams } from './logistic.ts';

export { GbtModel, LogisticModel };
export type Classifier = LogisticModel | GbtModel;
export type ClassifierJSON = LogisticJSON | GbtJSON;
export type ModelKind = Classifier['kind'];
export type ModelSpec = { kind: 'logistic'; params?: Partial<LogisticParams> } | { kind: 'gbt'; params?: Partial<GbtParams> };

export function classifierFromJSON(j: unknown): Classifier {
  const kind = (j as { kind?: unknown } | null)?.kind;
  if (kind === 'logistic') return LogisticModel.fromJSON(j);
  if (kind === 'gbt') return GbtModel.fromJSON(j);
  throw new Error(`unknown model kind ${JSON.stringify(kind)}`);
}
