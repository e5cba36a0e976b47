import { and, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm';
import { accounts, auditLog, users } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { GENESIS_HASH, rowHmac } from './canonical.ts';
import { auditKey } from './key.ts';

export { AUDIT_ALGS, canonicalJson, GENESIS_HASH, rowHash, rowHmac, type AuditAlg } from './canonical.ts';
export { auditKey, findAuditKey, loadAuditKey, useAuditKey } from './key.ts';
export { anchorHead, anchorLogPath, readAnchorLog, type Anchor } from './anchors.ts';
export { verifyAudit, verifyAuditChain, type ChainReport, type VerifyResult } from './verify.ts';

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
 * back with the change it describes. The row is keyed (HMAC under the process's audit key). A row
 * may name no user (a failed login for an unknown email, a job) and no account (a global event):
 * audit_log has no row-level security and no foreign keys, so such rows are as valid as any.
 */
export async function appendAudit(tx: Tx, input: AuditInput, clock: Clock = systemClock): Promise<AuditRow> {
  const key = auditKey(); // before the lock: a process without its key appends nothing
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
  const hash = rowHmac(key, prevHash, row);
  const [inserted] = await tx
    .insert(auditLog)
    .values({ ...row, ts: new Date(row.ts), prevHash, hash, alg: 'hmac-sha256' })
    .returning();
  return inserted!;
}

export interface AuditQuery {
  accountId?: string;
  accountIds?: string[]; // restrict to these (viewers)
  userId?: string; // the actor
  /** An exact action, or a family when it ends in a dot (`settings.` is every settings change). */
  action?: string;
  from?: Date;
  to?: Date;
  before?: number; // keyset pagination: ids below this
  limit: number;
}

/** An audit row with the names its ids stand for (null where the row names none, or it is gone). */
export type AuditRowNamed = AuditRow & { accountSlug: string | null; userEmail: string | null };

export async function listAudit(db: Db, q: AuditQuery): Promise<{ rows: AuditRowNamed[]; nextBefore: number | null }> {
  const where: SQL[] = [];
  if (q.accountId) where.push(eq(auditLog.accountId, q.accountId));
  if (q.accountIds) where.push(q.accountIds.length ? sql`${auditLog.accountId} in ${q.accountIds}` : sql`false`);
  if (q.userId) where.push(eq(auditLog.userId, q.userId));
  if (q.action) where.push(q.action.endsWith('.') ? sql`starts_with(${auditLog.action}, ${q.action})` : eq(auditLog.action, q.action));
  if (q.from) where.push(gte(auditLog.ts, q.from));
  if (q.to) where.push(lte(auditLog.ts, q.to));
  if (q.before) where.push(lt(auditLog.id, q.before));
  const rows = await db
    .select({ row: auditLog, accountSlug: accounts.slug, userEmail: users.email })
    .from(auditLog)
    .leftJoin(accounts, eq(accounts.id, auditLog.accountId))
    .leftJoin(users, eq(users.id, auditLog.userId))
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(q.limit + 1);
  const more = rows.length > q.limit;
  const page = (more ? rows.slice(0, q.limit) : rows).map((r) => ({ ...r.row, accountSlug: r.accountSlug, userEmail: r.userEmail }));
  return { rows: page, nextBefore: more ? page[page.length - 1]!.id : null };
}
