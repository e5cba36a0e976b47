-- The learning loop compares a challenger with the champion's frozen weights on rows neither has
-- learned. That needs two facts per model that were only implicit before:
--   trained_through: the data cursor — every row the model learned had its label known by then (the
--     newest learned row's label end). Rows decided at or after it are out of sample for the model.
--   lineage: the full fit an online-updated version descends from (its own version for a full fit),
--     so the champion as it stood before an evaluation window (an ancestor) can be found.
-- Existing rows: lineage from the version naming (`<base>.u<n>`); trained_through from data_to (the
-- newest learned row's open time) plus the label horizon and one 1h bar, as the label end is defined
-- (lib/ml/labels.ts) — the only interval models have been trained on.
ALTER TABLE "models" ADD COLUMN "trained_through" timestamp (3) with time zone;
--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "lineage" text;
--> statement-breakpoint
UPDATE "models" SET
  "lineage" = split_part("version", '.u', 1),
  "trained_through" = "data_to" + make_interval(hours => coalesce(("params"->>'horizonBars')::int, 24) + 1);
--> statement-breakpoint
ALTER TABLE "models" ALTER COLUMN "trained_through" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "models" ALTER COLUMN "lineage" SET NOT NULL;
--> statement-breakpoint
CREATE INDEX "models_lineage_idx" ON "models" USING btree ("lineage", "trained_through");
--> statement-breakpoint
-- Full retrains are paced from the last full run, whatever its outcome (a refused challenger is not
-- retried every night); online runs in between. Runs from before this migration have no kind.
ALTER TABLE "training_runs" ADD COLUMN "kind" text;
--> statement-breakpoint
ALTER TABLE "training_runs" ADD CONSTRAINT "training_runs_kind_check" CHECK ("kind" IS NULL OR "kind" IN ('full', 'online'));
--> statement-breakpoint
CREATE INDEX "training_runs_kind_started_idx" ON "training_runs" USING btree ("kind", "started_at");
