import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { openDatabase, type DbDriver } from './client.ts';

export const migrationsFolder = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

const MIGRATION_LOCK = 0x6165_6d67; // "aemg"

/**
 * Applies drizzle-kit's and the hand-written migrations, in journal order, as the connecting (owner)
 * user. A session advisory lock on the pool's single connection makes concurrent migrators (two api
 * replicas and the migrate Job) take turns instead of racing.
 */
export async function migrateDatabase(url: string, driver: DbDriver): Promise<void> {
  const database = await openDatabase({ url, driver, asAppRole: false, max: 1 });
  try {
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
