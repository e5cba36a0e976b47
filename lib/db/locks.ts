import type { Db } from './client.ts';

interface LockClient {
  query(text: string, values: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  release(destroy?: boolean): void;
}
interface Pool {
  connect(): Promise<LockClient>;
}

/**
 * Locks one holder at a time per key: within the process by a set of held keys, across processes by
 * a session-level advisory lock on one pooled connection the process keeps for them. Holding a lock
 * costs no connection per holder (a job that held a transaction open for its lock, while needing
 * other connections for its work, could exhaust the pool), and a process that dies releases every
 * lock it held with its connection. If that connection is lost, so are its locks; the next call
 * opens another.
 */
export class SessionLocks {
  private client: Promise<LockClient> | null = null;
  private readonly held = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly pool: Pool) {}

  /**
   * One query at a time on the session connection, in call order: concurrent jobs take and release
   * locks on it. (pg queues a second query itself today and warns that pg 9 will refuse it.)
   */
  private query(text: string, values: unknown[]): ReturnType<LockClient['query']> {
    const q = this.queue.then(async () => (await this.session()).query(text, values));
    this.queue = q.catch(() => undefined);
    return q;
  }

  private session(): Promise<LockClient> {
    this.client ??= this.pool.connect().then((c) => {
      c.on('error', () => {
        if (this.client === current) this.client = null;
        release(c);
      });
      return c;
    });
    const current = this.client;
    this.client.catch(() => (this.client = null));
    return this.client;
  }

  /** Takes the lock (space, key) if nobody holds it, here or in another process. */
  async tryLock(space: number, key: string): Promise<boolean> {
    const k = `${space} ${key}`;
    // Advisory locks are re-entrant within a session: the process's own holders are told apart here.
    if (this.held.has(k)) return false;
    this.held.add(k);
    try {
      const r = await this.query('select pg_try_advisory_lock($1, hashtext($2)) as ok', [space, key]);
      if (r.rows[0]?.ok === true) return true;
    } catch (err) {
      this.held.delete(k);
      throw err;
    }
    this.held.delete(k);
    return false;
  }

  async unlock(space: number, key: string): Promise<void> {
    try {
      await this.query('select pg_advisory_unlock($1, hashtext($2))', [space, key]);
    } finally {
      this.held.delete(`${space} ${key}`);
    }
  }

  /** Gives the connection back (its locks go with it): before the pool closes, which waits for it. */
  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    const client = c ? await c.catch(() => null) : null;
    if (client) release(client);
  }
}

/**
 * Gives a lock connection back to the pool, destroyed, once: the connection can still report an
 * error after it was given back (the server ending it on shutdown), and pg-pool throws on a second release.
 */
const released = new WeakSet<LockClient>();
function release(c: LockClient): void {
  if (released.has(c)) return;
  released.add(c);
  c.release(true);
}

const byDb = new WeakMap<Db, SessionLocks>();

/** The process's lock session for a database (drizzle keeps the pool as `$client`). */
export function sessionLocks(db: Db): SessionLocks {
  let l = byDb.get(db);
  if (!l) byDb.set(db, (l = new SessionLocks((db as unknown as { $client: Pool }).$client)));
  return l;
}

/** Closes the database's lock session if it has one (Database.close does, before ending the pool). */
export async function closeSessionLocks(db: Db): Promise<void> {
  await byDb.get(db)?.close();
  byDb.delete(db);
}
