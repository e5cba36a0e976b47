import { createHash, createHmac } from 'node:crypto';

/** JSON with object keys sorted at every depth: the same value always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export const GENESIS_HASH = '0'.repeat(64);

/**
 * How a row's hash was made. `sha256`: rows written before the chain was keyed (anyone can recompute
 * them, so they prove nothing against someone with database access). `hmac-sha256`: every row since,
 * under the audit key, which is not in the database.
 */
export const AUDIT_ALGS = ['sha256', 'hmac-sha256'] as const;
export type AuditAlg = (typeof AUDIT_ALGS)[number];

export interface ChainedRow {
  id: number;
  ts: string; // ISO 8601 with milliseconds
  userId: string | null;
  accountId: string | null;
  action: string;
  details: unknown;
}

const rowJson = (row: ChainedRow): string =>
  canonicalJson({ id: row.id, ts: row.ts, user_id: row.userId, account_id: row.accountId, action: row.action, details: row.details });

/** The legacy, unkeyed link: hash = sha256(prev_hash ‖ canonical JSON of the row). */
export const rowHash = (prevHash: string, row: ChainedRow): string => sha256(prevHash + rowJson(row));

/** The keyed link: hash = HMAC-SHA256(audit key, prev_hash ‖ canonical JSON of the row). */
export const rowHmac = (key: Buffer, prevHash: string, row: ChainedRow): string =>
  createHmac('sha256', key).update(prevHash + rowJson(row)).digest('hex');
