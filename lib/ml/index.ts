/** The learning core's public surface (pure: no I/O, no clock reads). */
export { BTC_PAIR, DEFAULT_FEATURE_PARAMS, FeatureState, featureMatrix, featureNames, featureSetHash, type FeatureParams } from './features.ts';
export { DEFAULT_LABEL_OPTIONS, DEFAULT_TAKER_FEE, forwardLabels, netReturn, type Label, type LabelOptions } from './labels.ts';
export { DEFAULT_REGIME_PARAMS, KNOWN_BTC_PERIODS, RegimeDetector, regimeFromTrend, regimeSeries, validateRegimes, type RegimeAgreement, type RegimeParams } from './regime.ts';
export { auc, backtestPositions, backtestSignal, brier, logLoss, positionsFromProbs, type BacktestResult } from './metrics.ts';
export { GbtModel, LogisticModel, classifierFromJSON, type Classifier, type ClassifierJSON, type ModelKind, type ModelSpec } from './models/index.ts';
export { purgedFolds, type Fold, type FoldOptions } from './cv.ts';
export { buildRows, type CandlesByPair, type Row } from './dataset.ts';
export { DEFAULT_TRAIN_OPTIONS, backtestRows, crossValidate, fitClassifier, fitTrainedModel, summarize, train, type CvSummary, type FoldResult, type TrainOptions } from './train.ts';
export { TrainedModel, type TrainedModelData } from './trained.ts';
export { DEFAULT_ONLINE_UPDATE, onlineUpdate, type OnlineUpdateOptions } from './online.ts';
export { DEFAULT_DRIFT_THRESHOLDS, DriftMonitor, assessDrift, driftReference, psi, type DriftReference, type DriftReport, type DriftThresholds } from './drift.ts';
export { DEFAULT_PROMOTION_MARGIN, challengerRecord, modelRecordSchema, shouldPromote, type ModelMetrics, type ModelRecord, type ModelStatus, type PromotionDecision, type PromotionMargin } from './registry.ts';
export { MlSignalModel } from './signalModel.ts';
export { DEFAULT_WALK_FORWARD_OPTIONS, walkForwardBacktest, type WalkForwardOptions, type WalkForwardPair, type WalkForwardResult } from './walkforward.ts';
export { emaCrossoverPositions } from './baseline.ts';
