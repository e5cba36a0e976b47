-- The application role. It owns nothing, so row-level security applies to every query it runs.
-- Roles are cluster-wide: create it once, tolerate it existing (several databases, one cluster).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aether_app') THEN
    CREATE ROLE aether_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
-- The connecting user switches to it (SET ROLE aether_app) for all application work.
GRANT aether_app TO CURRENT_USER;
