ALTER TABLE "trading_state" ADD COLUMN "day_start_at" timestamp (3) with time zone NOT NULL;--> statement-breakpoint
ALTER TABLE "trading_state" ADD COLUMN "drawdown" real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "trading_state" ADD COLUMN "reference_equity_usd" numeric;--> statement-breakpoint
ALTER TABLE "hedge_state" ADD COLUMN "peak_equity_usd" numeric DEFAULT '0' NOT NULL;