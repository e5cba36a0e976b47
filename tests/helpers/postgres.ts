import pg from 'pg';

/** Plain PostgreSQL helpers for the test setup and the benches (no vitest imports here). */
export async function reachablePg(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false; // not reachable: the caller tries the next source and says which it used
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** One statement on its own connection (create/drop/alter database). */
export async function adminQuery(url: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}
