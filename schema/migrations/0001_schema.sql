CREATE TABLE "accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "accounts_slug_unique" UNIQUE("slug"),
	CONSTRAINT "accounts_slug_format" CHECK ("accounts"."slug" ~ '^[a-z0-9][a-z0-9-]{0,39}$')
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"role" text NOT NULL,
	"password_hash" text NOT NULL,
	"totp_secret_enc" text,
	"disabled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "memberships" (
	"user_id" uuid NOT NULL,
	"account_id" uuid NOT NULL,
	"role" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "memberships_user_id_account_id_pk" PRIMARY KEY("user_id","account_id")
);
--> statement-breakpoint
CREATE TABLE "login_attempts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"ip" text NOT NULL,
	"at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "onboarding_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"used_at" timestamp (3) with time zone,
	CONSTRAINT "onboarding_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL,
	"revoked_at" timestamp (3) with time zone,
	CONSTRAINT "sessions_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"account_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"version" integer NOT NULL,
	"value" jsonb NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "settings_account_id_kind_version_pk" PRIMARY KEY("account_id","kind","version")
);
--> statement-breakpoint
ALTER TABLE "settings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "credentials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"storage" text NOT NULL,
	"ref" text,
	"ciphertext" text,
	"fingerprint" text NOT NULL,
	"key_last4" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "credentials" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "kraken_nonces" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"last_nonce" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kraken_nonces" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "candles" (
	"pair" text NOT NULL,
	"interval" integer NOT NULL,
	"open_time" timestamp (3) with time zone NOT NULL,
	"open" numeric NOT NULL,
	"high" numeric NOT NULL,
	"low" numeric NOT NULL,
	"close" numeric NOT NULL,
	"volume" numeric NOT NULL,
	"source" text NOT NULL,
	"flags" text[] DEFAULT '{}'::text[] NOT NULL,
	CONSTRAINT "candles_pair_interval_open_time_pk" PRIMARY KEY("pair","interval","open_time"),
	CONSTRAINT "candles_ohlc_sane" CHECK ("candles"."high" >= "candles"."low" AND "candles"."low" > 0 AND "candles"."volume" >= 0)
);
--> statement-breakpoint
CREATE TABLE "signals" (
	"pair" text NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"model_version" text NOT NULL,
	"prob_up" real NOT NULL,
	"expected_return" real NOT NULL,
	"horizon_bars" integer NOT NULL,
	"regime" text NOT NULL,
	"regime_probs" jsonb NOT NULL,
	"volatility" real NOT NULL,
	"atr_pct" real NOT NULL,
	CONSTRAINT "signals_pair_ts_model_version_pk" PRIMARY KEY("pair","ts","model_version")
);
--> statement-breakpoint
CREATE TABLE "models" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version" text NOT NULL,
	"kind" text NOT NULL,
	"params" jsonb NOT NULL,
	"feature_set_hash" text NOT NULL,
	"data_from" timestamp (3) with time zone NOT NULL,
	"data_to" timestamp (3) with time zone NOT NULL,
	"metrics" jsonb NOT NULL,
	"blob" jsonb NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"promoted_at" timestamp (3) with time zone,
	CONSTRAINT "models_version_unique" UNIQUE("version")
);
--> statement-breakpoint
CREATE TABLE "training_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp (3) with time zone NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"model_version" text,
	"promoted" text,
	"metrics" jsonb,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "fills" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"trade_id" text NOT NULL,
	"client_id" text,
	"pair" text NOT NULL,
	"side" text NOT NULL,
	"price" numeric NOT NULL,
	"qty" numeric NOT NULL,
	"fee" numeric NOT NULL,
	"realized_pnl" numeric NOT NULL,
	"liquidity" text NOT NULL,
	"model_version" text,
	"ts" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "fills_account_trade_uq" UNIQUE("account_id","trade_id")
);
--> statement-breakpoint
ALTER TABLE "fills" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "orders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"client_id" text NOT NULL,
	"exchange_id" text,
	"mode" text NOT NULL,
	"pair" text NOT NULL,
	"side" text NOT NULL,
	"type" text NOT NULL,
	"intent" text NOT NULL,
	"amount" numeric NOT NULL,
	"price" numeric,
	"status" text NOT NULL,
	"filled" numeric DEFAULT '0' NOT NULL,
	"avg_price" numeric,
	"fee" numeric DEFAULT '0' NOT NULL,
	"reason" text,
	"reject_code" text,
	"signal_ref" jsonb,
	"model_version" text,
	"decided_at" timestamp (3) with time zone NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_account_client_uq" UNIQUE("account_id","client_id")
);
--> statement-breakpoint
ALTER TABLE "orders" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "balance_snapshots" (
	"account_id" uuid NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"asset" text NOT NULL,
	"total" numeric NOT NULL,
	"hold" numeric NOT NULL,
	CONSTRAINT "balance_snapshots_account_id_ts_asset_pk" PRIMARY KEY("account_id","ts","asset")
);
--> statement-breakpoint
ALTER TABLE "balance_snapshots" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "daily_pnl" (
	"account_id" uuid NOT NULL,
	"day" text NOT NULL,
	"start_equity_usd" numeric NOT NULL,
	"end_equity_usd" numeric NOT NULL,
	"pnl_usd" numeric NOT NULL,
	"pnl_pct" real NOT NULL,
	"fees_usd" numeric NOT NULL,
	"trades" numeric NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "daily_pnl_account_id_day_pk" PRIMARY KEY("account_id","day")
);
--> statement-breakpoint
ALTER TABLE "daily_pnl" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "equity_snapshots" (
	"account_id" uuid NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"equity_usd" numeric NOT NULL,
	"cash_usd" numeric NOT NULL,
	"positions_usd" numeric NOT NULL,
	"hedge_ratio" real NOT NULL,
	"drawdown" real NOT NULL,
	CONSTRAINT "equity_snapshots_account_id_ts_pk" PRIMARY KEY("account_id","ts")
);
--> statement-breakpoint
ALTER TABLE "equity_snapshots" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "positions" (
	"account_id" uuid NOT NULL,
	"pair" text NOT NULL,
	"qty" numeric NOT NULL,
	"avg_price" numeric NOT NULL,
	"realized_pnl" numeric DEFAULT '0' NOT NULL,
	"stop_price" numeric,
	"take_profit_price" numeric,
	"opened_at" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "positions_account_id_pair_pk" PRIMARY KEY("account_id","pair")
);
--> statement-breakpoint
ALTER TABLE "positions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "risk_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"code" text NOT NULL,
	"client_id" text,
	"detail" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "risk_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "trading_state" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"since" timestamp (3) with time zone NOT NULL,
	"reason" text,
	"day_key" text NOT NULL,
	"day_start_equity_usd" numeric NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "trading_state" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "hedge_history" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"mode" text NOT NULL,
	"target" real NOT NULL,
	"actual" real NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hedge_history" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "hedge_state" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"mode" text NOT NULL,
	"target" real NOT NULL,
	"actual" real NOT NULL,
	"manual_ratio" real,
	"manual_expires_at" timestamp (3) with time zone,
	"reason" text NOT NULL,
	"updated_by" uuid,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "hedge_state" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "sim_state" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"state" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sim_state" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigint PRIMARY KEY NOT NULL,
	"ts" timestamp (3) with time zone NOT NULL,
	"user_id" uuid,
	"account_id" uuid,
	"action" text NOT NULL,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_log_hash_unique" UNIQUE("hash")
);
--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memberships" ADD CONSTRAINT "memberships_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settings" ADD CONSTRAINT "settings_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "settings" ADD CONSTRAINT "settings_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kraken_nonces" ADD CONSTRAINT "kraken_nonces_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "fills" ADD CONSTRAINT "fills_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "public"."orders"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "orders" ADD CONSTRAINT "orders_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "balance_snapshots" ADD CONSTRAINT "balance_snapshots_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_pnl" ADD CONSTRAINT "daily_pnl_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "equity_snapshots" ADD CONSTRAINT "equity_snapshots_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "positions" ADD CONSTRAINT "positions_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "risk_events" ADD CONSTRAINT "risk_events_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trading_state" ADD CONSTRAINT "trading_state_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hedge_history" ADD CONSTRAINT "hedge_history_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hedge_state" ADD CONSTRAINT "hedge_state_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "hedge_state" ADD CONSTRAINT "hedge_state_updated_by_users_id_fk" FOREIGN KEY ("updated_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sim_state" ADD CONSTRAINT "sim_state_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "login_attempts_email_at_idx" ON "login_attempts" USING btree ("email","at");--> statement-breakpoint
CREATE INDEX "login_attempts_ip_at_idx" ON "login_attempts" USING btree ("ip","at");--> statement-breakpoint
CREATE INDEX "sessions_user_idx" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "signals_ts_idx" ON "signals" USING btree ("ts");--> statement-breakpoint
CREATE INDEX "models_status_idx" ON "models" USING btree ("status");--> statement-breakpoint
CREATE INDEX "fills_account_ts_idx" ON "fills" USING btree ("account_id","ts");--> statement-breakpoint
CREATE INDEX "orders_account_status_idx" ON "orders" USING btree ("account_id","status");--> statement-breakpoint
CREATE INDEX "equity_snapshots_ts_idx" ON "equity_snapshots" USING btree ("ts");--> statement-breakpoint
CREATE INDEX "risk_events_account_ts_idx" ON "risk_events" USING btree ("account_id","ts");--> statement-breakpoint
CREATE INDEX "hedge_history_account_ts_idx" ON "hedge_history" USING btree ("account_id","ts");--> statement-breakpoint
CREATE INDEX "audit_log_account_ts_idx" ON "audit_log" USING btree ("account_id","ts");--> statement-breakpoint
CREATE INDEX "audit_log_action_idx" ON "audit_log" USING btree ("action");--> statement-breakpoint
CREATE POLICY "settings_account_isolation" ON "settings" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "credentials_account_isolation" ON "credentials" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "kraken_nonces_account_isolation" ON "kraken_nonces" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "fills_account_isolation" ON "fills" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "orders_account_isolation" ON "orders" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "balance_snapshots_account_isolation" ON "balance_snapshots" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "daily_pnl_account_isolation" ON "daily_pnl" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "equity_snapshots_account_isolation" ON "equity_snapshots" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "positions_account_isolation" ON "positions" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "risk_events_account_isolation" ON "risk_events" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "trading_state_account_isolation" ON "trading_state" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "hedge_history_account_isolation" ON "hedge_history" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "hedge_state_account_isolation" ON "hedge_state" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "sim_state_account_isolation" ON "sim_state" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);