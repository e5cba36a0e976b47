import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useAuditKey } from '../lib/audit/key.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { startEmbeddedPostgres } from '../lib/runtime/embedded-postgres.ts';
import { adminQuery, reachablePg } from '../tests/helpers/postgres.ts';

export { adminQuery, reachablePg };

/** What the benches share: a fresh, migrated PostgreSQL database that is dropped afterwards. */
const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';



/**
 * Runs `fn` on a new database: from TEST_DATABASE_URL (which must be reachable), else the local
 * service, else an embedded PostgreSQL started for the bench. Everything is removed afterwards.
 */
export async function withFreshDatabase<T>(fn: (url: string, source: string) => Promise<T>, opts: { migrate?: boolean } = {}): Promise<T> {
  let admin = process.env.TEST_DATABASE_URL ?? DEFAULT_PG;
  let source = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'local PostgreSQL';
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (!(await reachablePg(admin))) {
    if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL ${admin} is unreachable`);
    const home = mkdtempSync(join(tmpdir(), 'aether-bench-pg-'));
    const embedded = await startEmbeddedPostgres(home, (m) => console.warn(m));
    admin = embedded.url.replace(/\/aether$/, '/postgres');
    source = 'embedded PostgreSQL';
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(home, { recursive: true, force: true });
    };
  }
  // Benches append audit rows as the runtime does, keyed: the key the composition root would load.
  useAuditKey(randomBytes(32));
  const name = `aether_bench_${randomBytes(5).toString('hex')}`;
  const u = new URL(admin);
  u.pathname = `/${name}`;
  try {
    await adminQuery(admin, `create database ${name}`);
    try {
      if (opts.migrate ?? true) await migrateDatabase(u.toString(), 'pg');
      return await fn(u.toString(), source);
    } finally {
      await adminQuery(admin, `drop database if exists ${name} with (force)`);
    }
  } finally {
    await stopEmbedded?.();
  }
}
