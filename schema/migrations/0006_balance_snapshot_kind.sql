ALTER TABLE "balance_snapshots" ADD COLUMN "kind" text DEFAULT 'books' NOT NULL;--> statement-breakpoint
ALTER TABLE "balance_snapshots" DROP CONSTRAINT "balance_snapshots_account_id_ts_asset_pk";--> statement-breakpoint
ALTER TABLE "balance_snapshots" ADD CONSTRAINT "balance_snapshots_account_id_kind_ts_asset_pk" PRIMARY KEY("account_id","kind","ts","asset");
