-- The system log (issue 11): error-level log lines of every process with a database, beside the
-- risk events already in risk_events. The account is the slug the log line names, or none (a global
-- error), so the table is not account-scoped: no account_id, no row-level security; the API shows a
-- viewer only their accounts' rows. Bounded by the writer (lib/system/events.ts: the newest 10,000).
CREATE TABLE "system_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"level" text NOT NULL,
	"source" text NOT NULL,
	"account" text,
	"message" text NOT NULL,
	"detail" jsonb NOT NULL,
	CONSTRAINT "system_events_level_check" CHECK ("level" IN ('error'))
);
--> statement-breakpoint
CREATE INDEX "system_events_ts_idx" ON "system_events" USING btree ("ts");
--> statement-breakpoint
CREATE INDEX "system_events_account_ts_idx" ON "system_events" USING btree ("account", "ts");
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON "system_events" TO aether_app;
