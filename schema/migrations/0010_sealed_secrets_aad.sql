-- Kraken keys: revocation, and the outbox of Kubernetes Secret writes.
--
-- Sealed secrets (credentials.ciphertext, users.totp_secret_enc) move from v1 (AES-256-GCM without
-- associated data) to v2 (bound to their row). That re-encryption needs the master key, which the
-- migrate Job does not hold, so it is not SQL: the api (and `aether start`) re-seal every v1 value
-- once at start-up, before serving (lib/accounts/reseal.ts).
ALTER TABLE "credentials" ADD COLUMN "revoked_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "credentials" ADD COLUMN "revoked_by" uuid;--> statement-breakpoint
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_revoked_by_users_id_fk" FOREIGN KEY ("revoked_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE TABLE "kraken_secret_sync" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "kraken_secret_sync" ADD CONSTRAINT "kraken_secret_sync_account_id_accounts_id_fk" FOREIGN KEY ("account_id") REFERENCES "public"."accounts"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "kraken_secret_sync" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "kraken_secret_sync" FORCE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "kraken_secret_sync_account_isolation" ON "kraken_secret_sync" AS PERMISSIVE FOR ALL TO "aether_app" USING (account_id = nullif(current_setting('aether.account_id', true), '')::uuid) WITH CHECK (account_id = nullif(current_setting('aether.account_id', true), '')::uuid);--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "kraken_secret_sync" TO aether_app;
