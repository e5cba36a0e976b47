CREATE TABLE "account_cycles" (
	"account_id" uuid NOT NULL,
	"bar_time" timestamp (3) with time zone NOT NULL,
	"outcome" text NOT NULL,
	"mode" text,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone NOT NULL,
	"detail" jsonb NOT NULL,
	CONSTRAINT "account_cycles_account_id_bar_time_pk" PRIMARY KEY("account_id","bar_time")
);
--> statement-breakpoint
ALTER TABLE "account_cycles" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "account_cycles" ADD CONSTRAINT "account_cycles_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_cycles_finished_idx" ON "account_cycles" USING btree ("account_id","finished_at");--> statement-breakpoint
CREATE POLICY "account_cycles_account_isolation" ON "account_cycles" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);