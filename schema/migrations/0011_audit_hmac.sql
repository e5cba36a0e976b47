-- The audit chain is keyed from here on: hash = HMAC-SHA256(audit key, prev_hash ‖ canonical JSON of
-- the row), with a key that is not in the database ($AETHER_HOME/audit.key or the aether-audit-key
-- Secret). Rows written before keep verifying as plain SHA-256; `alg` says which a row is. Plain rows
-- may only precede keyed ones, and the switch point is anchored outside the database (lib/audit).
-- A column with a constant default is added without rewriting (or UPDATE-triggering) any row: every
-- existing row reads 'sha256'. The default is dropped at once, so each new row must name its algorithm.
ALTER TABLE "audit_log" ADD COLUMN "alg" text DEFAULT 'sha256' NOT NULL;
--> statement-breakpoint
ALTER TABLE "audit_log" ALTER COLUMN "alg" DROP DEFAULT;
--> statement-breakpoint
ALTER TABLE "audit_log" ADD CONSTRAINT "audit_log_alg_check" CHECK ("alg" IN ('sha256', 'hmac-sha256'));
