-- Every order and every fill says why it traded (issue 10): orders.cause is the decision's cause
-- (entry, stop, take-profit, signal, hedge, halt, stop-move, protect), fills.cause what the trade was
-- (entry, stop, take-profit, signal, hedge, halt: a fired protect/stop-move stop is a stop). New rows
-- name it (no default); existing rows are backfilled from what the cycle wrote before: the intent,
-- the order type and the reason text (lib/strategy/decide.ts wrote "stop-loss … hit" and
-- "take-profit … hit" for the exits it enforced, lib/cycle/order-phase.ts "flatten on …").
-- Plain tables (not hypertables), so this is the same with and without TimescaleDB. New columns
-- inherit the table grants of aether_app (0002: table-level, not per column).
ALTER TABLE "orders" ADD COLUMN "cause" text;
--> statement-breakpoint
ALTER TABLE "fills" ADD COLUMN "cause" text;
--> statement-breakpoint
-- Row-level security is forced on these tables (0008) and the policy admits only the transaction's
-- account: run by a non-superuser owner the backfill would see no row at all and silently leave
-- them NULL (then the NOT NULL below fails). The owner lifts FORCE for the backfill only; the whole
-- migration is one transaction, so no other session ever sees the table unforced.
ALTER TABLE "orders" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "fills" NO FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
UPDATE "orders" SET "cause" = CASE
  WHEN "intent" = 'entry' THEN 'entry'
  WHEN "intent" = 'hedge' THEN 'hedge'
  WHEN "intent" = 'stop-move' THEN 'stop-move'
  WHEN "intent" = 'flatten' THEN 'halt'
  -- The cycle's own protection check wrote "… held without a stop"; every other protective row is
  -- a close the exchange attached to an entry (a stop, unless it was a take-profit close).
  WHEN "intent" = 'protective' AND "reason" LIKE '%held without a stop%' THEN 'protect'
  WHEN "intent" = 'protective' AND "type" LIKE 'take-profit%' THEN 'take-profit'
  WHEN "intent" = 'protective' THEN 'stop'
  WHEN "type" LIKE 'take-profit%' OR "reason" LIKE 'take-profit %' THEN 'take-profit'
  WHEN "type" LIKE 'stop-loss%' OR "reason" LIKE 'stop-loss %' THEN 'stop'
  WHEN "reason" LIKE 'flatten on %' THEN 'halt'
  ELSE 'signal'
END;
--> statement-breakpoint
UPDATE "fills" AS f SET "cause" = CASE WHEN o."cause" IN ('protect', 'stop-move') THEN 'stop' ELSE o."cause" END
FROM "orders" AS o WHERE o."id" = f."order_id";
--> statement-breakpoint
ALTER TABLE "orders" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "fills" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "orders" ALTER COLUMN "cause" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "fills" ALTER COLUMN "cause" SET NOT NULL;
--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_cause_check" CHECK ("cause" IN ('entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt', 'stop-move', 'protect'));
--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_cause_check" CHECK ("cause" IN ('entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt'));
--> statement-breakpoint
-- The adaptation and the hedge report read an account's fills by cause.
CREATE INDEX "fills_account_cause_ts_idx" ON "fills" USING btree ("account_id", "cause", "ts");
