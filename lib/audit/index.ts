import { and, asc, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import { auditLog } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { GENESIS_HASH, rowHash } from './canonical.ts';

export { canonicalJson, GENESIS_HASH, rowHash } from './canonical.ts';

/** Every appender takes this lock, so concurrent appends form one linear chain. */
const CHAIN_LOCK = 0x61657468; // "aeth"

export interface AuditInput {
  action: string;
  userId?: string | null;
  accountId?: string | null;
  details?: Record<string, unknown>;
}

export type AuditRow = typeof auditLog.$inferSelect;

/**
 * Appends one row to the chain inside the caller's transaction, so the record commits or rolls
 * back with the change it describes.
 */
export async function appendAudit(tx: Tx, input: AuditInput, clock: Clock = systemClock): Promise<AuditRow> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
  const [last] = await tx.select({ id: auditLog.id, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.id)).limit(1);
  // Round-trip through JSON so what is hashed is exactly what jsonb stores and gives back.
  const details = JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>;
  const row = {
    id: (last?.id ?? 0) + 1,
    ts: new Date(clock.now()).toISOString(),
    userId: input.userId ?? null,
    accountId: input.accountId ?? null,
    action: input.action,
    details,
  };
  const prevHash = last?.hash ?? GENESIS_HASH;
  const hash = rowHash(prevHash, row);
  const [inserted] = await tx
    .insert(auditLog)
    .values({ ...row, ts: new Date(row.ts), prevHash, hash })
    .returning();
  return inserted!;
}

export type VerifyResult =
  | { ok: true; rows: number; head: string }
  | { ok: false; rows: number; badId: number; reason: string };

/** Walks the whole chain in id order and names the first row that does not hold. */
export async function verifyAudit(db: Db, batch = 1000): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH;
  let expectedId = 1;
  let checked = 0;
  for (;;) {
    const rows = await db.select().from(auditLog).where(gte(auditLog.id, expectedId)).orderBy(asc(auditLog.id)).limit(batch);
    if (rows.length === 0) return { ok: true, rows: checked, head: prevHash };
    for (const r of rows) {
      if (r.id !== expectedId) return { ok: false, rows: checked, badId: expectedId, reason: `row ${expectedId} is missing (next is ${r.id})` };
      if (r.prevHash !== prevHash) return { ok: false, rows: checked, badId: r.id, reason: 'prev_hash does not match the previous row' };
      const recomputed = rowHash(prevHash, { ...r, ts: r.ts.toISOString() });
      if (recomputed !== r.hash) return { ok: false, rows: checked, badId: r.id, reason: 'hash does not match the row contents' };
      prevHash = r.hash;
      expectedId++;
      checked++;
    }
  }
}

export interface AuditQuery {
  accountId?: string;
  accountIds?: string[]; // restrict to these (viewers)
  action?: string;
  from?: Date;
  to?: Date;
  before?: number; // keyset pagination: ids below this
  limit: number;
}

export async function listAudit(db: Db, q: AuditQuery): Promise<{ rows: AuditRow[]; nextBefore: number | null }> {
  const where: SQL[] = [];
  if (q.accountId) where.push(eq(auditLog.accountId, q.accountId));
  if (q.accountIds) where.push(q.accountIds.length ? sql`${auditLog.accountId} in ${q.accountIds}` : sql`false`);
  if (q.action) where.push(eq(auditLog.action, q.action));
  if (q.from) where.push(gte(auditLog.ts, q.from));
  if (q.to) where.push(lte(auditLog.ts, q.to));
  if (q.before) where.push(lt(auditLog.id, q.before));
  const rows = await db
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  return { rows: page, nextBefore: more ? page[page.length - 1]!.id : null };
}
