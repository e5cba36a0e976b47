-- The application role. It owns nothing, so row-level security applies to every query it runs.
-- Roles are cluster-wide: create it once, tolerate it existing — also when migrations of several
-- databases on one cluster run at the same time and race on the CREATE.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aether_app') THEN
    CREATE ROLE aether_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
--> statement-breakpoint
-- The connecting user switches to it (the startup option role=aether_app) for all application work.
GRANT aether_app TO CURRENT_USER;
