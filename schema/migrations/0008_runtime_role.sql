-- Least privilege for the runtime. Until now the runtime connected as the owner (or a superuser) and
-- switched to aether_app with the startup option `role=aether_app`, which any code could undo with
-- RESET ROLE. The runtime now logs in as aether_runtime: no superuser, no role or database creation,
-- no BYPASSRLS, owner of nothing, member only of aether_app (which owns nothing either). Its
-- password is set by `aether migrate` from the runtime URL (cluster) or by the embedded runtime.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aether_runtime') THEN
    CREATE ROLE aether_runtime LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
--> statement-breakpoint
-- A role of that name made by hand with more power is refused rather than used.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aether_runtime' AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)) THEN
    RAISE EXCEPTION 'the role aether_runtime exists with superuser, createrole, createdb, replication or bypassrls: drop it or take those away';
  END IF;
  IF EXISTS (
    SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND pg_has_role('aether_runtime', c.relowner, 'MEMBER')
  ) THEN
    RAISE EXCEPTION 'aether_runtime owns (or is a member of a role that owns) tables in public: revoke that membership';
  END IF;
END
$$;
--> statement-breakpoint
GRANT aether_app TO aether_runtime;
--> statement-breakpoint
-- Row-level security also for the tables' owner: only a superuser (the migration's own connection in
-- the embedded runtime) still bypasses it. A future data migration on an account table run by a
-- non-superuser owner sets the account (aether.account_id) or lifts FORCE for that statement.
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity LOOP
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t.relname);
  END LOOP;
END
$$;
--> statement-breakpoint
-- Signatures of the job calls accepted in the last minute (lib/http/job-replay.ts): a replay of one
-- is refused by whichever replica it reaches. Global (no account), short-lived rows.
CREATE TABLE "job_signatures" (
	"signature" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "job_signatures_expires_idx" ON "job_signatures" USING btree ("expires_at");
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON job_signatures TO aether_app;
