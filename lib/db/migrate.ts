import { fileURLToPath } from 'node:url';
import { openDatabase, type DbDriver } from './client.ts';

export const migrationsFolder = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

/** Applies drizzle-kit's and the hand-written migrations, in journal order, as the connecting (owner) user. */
export async function migrateDatabase(url: string, driver: DbDriver): Promise<void> {
  const database = await openDatabase({ url, driver, asAppRole: false, max: 1 });
  try {
    if (driver === 'neon') {
      const { migrate } = await import('drizzle-orm/neon-serverless/migrator');
      await migrate(database.db as never, { migrationsFolder });
    } else {
      const { migrate } = await import('drizzle-orm/node-postgres/migrator');
      await migrate(database.db as never, { migrationsFolder });
    }
  } finally {
    await database.close();
  }
}
