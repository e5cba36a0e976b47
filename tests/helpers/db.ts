import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../lib/db/client.ts';
import { migrateDatabase } from '../../lib/db/migrate.ts';

export interface TestDatabase {
  /** URL of the fresh database (connects as the owner/superuser). */
  url: string;
  /** The application's view: every query as aether_app, so row-level security applies. */
  app: Database;
  /** Owner/superuser connection for setup and out-of-band checks. */
  owner: pg.Pool;
  drop(): Promise<void>;
}

const withDb = (url: string, name: string): string => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

/** A new, migrated database per test file: tests never share rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = inject('adminDatabaseUrl');
  const name = `aether_t_${randomBytes(5).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = withDb(admin, name);
  await migrateDatabase(url, 'pg');
  const app = await openDatabase({ url, driver: 'pg', max: 5 });
  const owner = new pg.Pool({ connectionString: url, max: 3 });
  // drop() terminates the database's sessions; an idle owner connection closing then is expected.
  owner.on('error', (err: Error & { code?: string }) => {
    if (err.code !== '57P01') throw err;
  });
  return {
    url,
    app,
    owner,
    async drop() {
      await app.close();
      await owner.end();
      const c2 = new pg.Client({ connectionString: admin });
      await c2.connect();
      await c2.query(`drop database if exists ${name} with (force)`);
      await c2.end();
    },
  };
}
