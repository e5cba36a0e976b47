import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from '../../schema/index.ts';
import { closeSessionLocks } from './locks.ts';

export type Schema = typeof schema;
/** The drizzle database, whichever driver is underneath (node-postgres or Neon serverless). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbDriver = 'pg' | 'neon';

export interface Database {
  db: Db;
  driver: DbDriver;
  /** Close the pool (idempotent). */
  close(): Promise<void>;
}

interface PoolLike {
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}

export interface OpenOptions {
  url: string;
  driver: DbDriver;
  /** Run every query as aether_app (the default for application work); false only for migrations. */
  asAppRole?: boolean;
  max?: number;
  /** Errors of idle pooled clients (server restart, network); queries still fail on their own. */
  onIdleError?: (err: Error) => void;
}

/** One client factory for both drivers; the embedded runtime hands in its local URL with driver pg. */
export async function openDatabase({ url, driver, asAppRole = true, max = 10, onIdleError }: OpenOptions): Promise<Database> {
  let pool: PoolLike;
  let db: Db;
  // The role is a startup parameter, so every pooled connection is aether_app from its first query.
  const roleOption = asAppRole ? { options: '-c role=aether_app' } : {};
  // A few connections stay open between hourly jobs (the pool closes idle ones after 10 s): opening
  // one costs a job several milliseconds before its first order. Keep-alive keeps them from being
  // dropped silently by the network meanwhile.
  const keep = { min: Math.min(4, max), keepAlive: true };
  if (driver === 'neon') {
    const neon = await import('@neondatabase/serverless');
    const { drizzle } = await import('drizzle-orm/neon-serverless');
    const { default: ws } = await import('ws');
    // Node 20 has no global WebSocket; the Neon driver needs a constructor.
    neon.neonConfig.webSocketConstructor ??= ws;
    const p = new neon.Pool({ connectionString: url, max, ...keep, ...roleOption });
    pool = p as unknown as PoolLike;
    db = drizzle(p, { schema }) as unknown as Db;
  } else {
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const p = new pg.Pool({ connectionString: url, max, ...keep, ...roleOption });
    pool = p as unknown as PoolLike;
    db = drizzle(p, { schema }) as unknown as Db;
  }
  pool.on('error', (err) => (onIdleError ?? ((e: Error) => console.error(`database pool: ${e.message}`)))(err));
  let closed = false;
  return {
    db,
    driver,
    close: async () => {
      if (closed) return;
      closed = true;
      await closeSessionLocks(db); // a checked-out connection would hold pool.end() forever
      await pool.end();
    },
  };
}

export async function hasTimescale(db: Db): Promise<boolean> {
  const r = await db.execute(sql`select count(*)::int as n from pg_extension where extname = 'timescaledb'`);
  return (rowsOf<{ n: number }>(r)[0]?.n ?? 0) > 0;
}

/** node-postgres returns { rows }, the Neon pool the same; normalise for raw `execute` results. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** The PostgreSQL SQLSTATE of an error, looking through drizzle's DrizzleQueryError wrapper. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++)
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  return undefined;
}
