import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { APP_ROOT } from '../app-root.ts';
import { openDatabase, pgErrorCode, rowsOf, type Db, type DbDriver } from './client.ts';

export const migrationsFolder = join(APP_ROOT, 'schema/migrations');

const MIGRATION_LOCK = 0x6165_6d67; // "aemg"

/**
 * Applies drizzle-kit's and the hand-written migrations, in journal order, as the connecting (owner)
 * user. A session advisory lock on the pool's single connection makes concurrent migrators (two api
 * replicas and the migrate Job) take turns instead of racing.
 */
export async function migrateDatabase(url: string, driver: DbDriver): Promise<void> {
  const database = await openDatabase({ url, driver, asAppRole: false, max: 1 });
  try {
    if (await isCurrent(database.db)) return; // every start of the api asks; nearly always the answer is yes
    await database.db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK})`);
    if (driver === 'neon') {
      const { migrate } = await import('drizzle-orm/neon-serverless/migrator');
      await migrate(database.db as never, { migrationsFolder });
    } else {
      const { migrate } = await import('drizzle-orm/node-postgres/migrator');
      await migrate(database.db as never, { migrationsFolder });
    }
    await database.db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK})`);
  } finally {
    await database.close(); // closing the session releases the lock on every path
  }
}

/** The `when` of the journal's newest migration: what drizzle records as `created_at` once it has run. */
function newestMigration(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ when: number }> };
  return Math.max(...journal.entries.map((e) => e.when));
}

/**
 * Whether the newest migration has run — drizzle's own test (it runs those newer than the last
 * recorded) in one query, without the lock and the DDL it starts with. Not yet migrated at all: no.
 */
async function isCurrent(db: Db): Promise<boolean> {
  try {
    const r = await db.execute(sql`select max(created_at)::text as last from drizzle.__drizzle_migrations`);
    const last = rowsOf<{ last: string | null }>(r)[0]?.last;
    return last != null && Number(last) >= newestMigration();
  } catch (err) {
    const code = pgErrorCode(err);
    if (code === '42P01' || code === '3F000') return false; // no migrations table, no drizzle schema: a new database
    throw err;
  }
}
