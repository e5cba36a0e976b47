-- `trading.baseline` (per-account baseline indicator parameters) is gone from the trading settings:
-- `score` computes one baseline signal per pair for every account, so the key was accepted but never
-- read. The trading settings schema is strict, so a stored row that still carries the key would no
-- longer parse: strip it from every version (the latest is what the cycle reads; older versions stay
-- readable too). The values remain in the audit log's before/after of the change that set them.
-- Settings rows have no UPDATE trigger (only audit_log is append-only); this runs as the owner, so
-- row-level security does not filter it.
UPDATE "settings" SET "value" = "value" - 'baseline' WHERE "kind" = 'trading' AND "value" ? 'baseline';
