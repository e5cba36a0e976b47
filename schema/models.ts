import { index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, ts } from './_shared.ts';

/** The model registry: every trained model, its data window, metrics and serialized parameters. */
export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    version: text('version').notNull().unique(),
    kind: text('kind').notNull(),
    params: jsonb('params').notNull(),
    featureSetHash: text('feature_set_hash').notNull(),
    dataFrom: ts('data_from').notNull(),
    dataTo: ts('data_to').notNull(),
    metrics: jsonb('metrics').notNull(),
    blob: jsonb('blob').notNull(),
    status: text('status', { enum: ['champion', 'challenger', 'retired'] }).notNull(),
    createdAt: createdAt(),
    promotedAt: ts('promoted_at'),
    /** The data cursor: every row the model learned had its label known by then (0013). */
    trainedThrough: ts('trained_through').notNull(),
    /** The full fit this version descends from by online updates; its own version for a full fit (0013). */
    lineage: text('lineage').notNull(),
  },
  (t) => [index('models_status_idx').on(t.status), index('models_lineage_idx').on(t.lineage, t.trainedThrough)],
);

export const trainingRuns = pgTable(
  'training_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: text('trigger', { enum: ['schedule', 'drift', 'manual'] }).notNull(),
    /** full | online; null for runs recorded before migration 0013. */
    kind: text('kind', { enum: ['full', 'online'] }),
    status: text('status', { enum: ['running', 'succeeded', 'failed'] }).notNull(),
    startedAt: ts('started_at').notNull(),
    finishedAt: ts('finished_at'),
    modelVersion: text('model_version'),
    promoted: text('promoted'),
    metrics: jsonb('metrics'),
    error: text('error'),
  },
  (t) => [index('training_runs_kind_started_idx').on(t.kind, t.startedAt)],
);
