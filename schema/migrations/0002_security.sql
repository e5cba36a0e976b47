-- What drizzle-kit cannot express: privileges, the audit log's immutability, TimescaleDB.

GRANT USAGE ON SCHEMA public TO aether_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO aether_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO aether_app;
--> statement-breakpoint
-- The audit log: the application may append and read, nothing else.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM aether_app;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION aether_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION aether_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION aether_audit_append_only();
--> statement-breakpoint
-- TimescaleDB where it exists (and is preloaded); otherwise the plain tables above, with the same
-- keys and indexes, are the schema. Compression only on tables without row-level security.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
     AND current_setting('shared_preload_libraries') LIKE '%timescaledb%' THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    PERFORM create_hypertable('candles', 'open_time', chunk_time_interval => INTERVAL '30 days', migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('signals', 'ts', chunk_time_interval => INTERVAL '30 days', migrate_data => true, if_not_exists => true);
    PERFORM create_hypertable('equity_snapshots', 'ts', chunk_time_interval => INTERVAL '30 days', migrate_data => true, if_not_exists => true);
    EXECUTE 'ALTER TABLE candles SET (timescaledb.compress, timescaledb.compress_segmentby = ''pair, interval'', timescaledb.compress_orderby = ''open_time'')';
    EXECUTE 'ALTER TABLE signals SET (timescaledb.compress, timescaledb.compress_segmentby = ''pair, model_version'', timescaledb.compress_orderby = ''ts'')';
    PERFORM add_compression_policy('candles', INTERVAL '90 days', if_not_exists => true);
    PERFORM add_compression_policy('signals', INTERVAL '30 days', if_not_exists => true);
    PERFORM add_retention_policy('signals', INTERVAL '730 days', if_not_exists => true);
  END IF;
END
$$;
