import { sql } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { rowsOf, type Db } from '../db/client.ts';

/**
 * Remembers each accepted job signature until its timestamp leaves the window, in a store every
 * replica of every function shares, so a replay is refused wherever it lands: Redis where the queues
 * are (one SET NX, well under a millisecond), else PostgreSQL, the one store every runtime has (the
 * embedded one has no Redis). Of two calls with one signature exactly one wins.
 */
export function signatureClaims(ctx: Pick<AppContext, 'db' | 'queue'>): (signature: string, expiresAt: number, now: number) => Promise<boolean> {
  const claimOnce = ctx.queue.claimOnce;
  if (claimOnce) return (signature, expiresAt, now) => claimOnce(`job-signature:${signature}`, expiresAt - now);
  return (signature, expiresAt, now) => claimSignature(ctx.db, signature, expiresAt, now);
}

/** The PostgreSQL claim: the primary key makes it atomic; expired rows go in the same statement. */
export async function claimSignature(db: Db, signature: string, expiresAt: number, now: number): Promise<boolean> {
  const r = await db.execute(sql`
    with expired as (delete from job_signatures where expires_at < ${new Date(now).toISOString()}::timestamptz),
    claimed as (insert into job_signatures (signature, expires_at) values (${signature}, ${new Date(expiresAt).toISOString()}::timestamptz) on conflict do nothing returning 1)
    select count(*)::int as n from claimed`);
  return (rowsOf<{ n: number }>(r)[0]?.n ?? 0) === 1;
}
