import { asc, gte } from 'drizzle-orm';
import { auditLog } from '../../schema/index.ts';
import type { Db } from '../db/client.ts';
import { readAnchorLog, type Anchor } from './anchors.ts';
import { GENESIS_HASH, rowHash, rowHmac } from './canonical.ts';

type StoredRow = typeof auditLog.$inferSelect;

export interface Broken {
  badId: number;
  reason: string;
}

/**
 * The rules of a sound chain, row by row in id order (pure: rows in, verdicts out):
 * - ids run 1, 2, 3 … without a gap, each row links to the previous hash (genesis: 64 zeros);
 * - plain SHA-256 rows only before the first keyed row, and — once an anchor has recorded where the
 *   keyed rows begin — only before that row: otherwise anyone could rewrite the whole chain unkeyed;
 * - every hash recomputes (keyed rows with the audit key);
 * - every anchored (seq, hash) is still there, and the chain reaches the newest anchor.
 */
export class ChainWalker {
  private prevHash = GENESIS_HASH;
  private nextId = 1;
  private firstKeyed: number | null = null;
  private readonly anchored = new Map<number, Anchor[]>();
  private readonly anchoredKeyedFrom: number | null;
  private readonly newest: Anchor | null;
  /** A fault of the anchor log itself, reported before any row. */
  readonly anchorFault: Broken | null = null;

  constructor(
    private readonly key: Buffer | null,
    anchors: readonly Anchor[],
  ) {
    for (const a of anchors) this.anchored.set(a.seq, [...(this.anchored.get(a.seq) ?? []), a]);
    const starts = [...new Set(anchors.map((a) => a.keyedFrom).filter((k): k is number => k !== null))].sort((a, b) => a - b);
    this.anchoredKeyedFrom = starts[0] ?? null;
    if (starts.length > 1) this.anchorFault = { badId: starts[0]!, reason: `the anchor log disagrees on where the keyed rows begin (rows ${starts.join(', ')})` };
    this.newest = anchors.reduce<Anchor | null>((m, a) => (m && m.seq >= a.seq ? m : a), null);
  }

  get rows(): number {
    return this.nextId - 1;
  }
  get head(): { seq: number; hash: string } {
    return { seq: this.nextId - 1, hash: this.prevHash };
  }
  get keyedFrom(): number | null {
    return this.firstKeyed;
  }

  /** Null when the row holds. */
  step(r: StoredRow): Broken | null {
    const id = this.nextId;
    if (r.id !== id) return { badId: id, reason: `row ${id} is missing (next is ${r.id})` };
    if (r.prevHash !== this.prevHash) return { badId: id, reason: 'prev_hash does not match the previous row' };
    const row = { ...r, ts: r.ts.toISOString() };
    if (r.alg === 'sha256') {
      if (this.firstKeyed !== null) return { badId: id, reason: `an unkeyed (plain SHA-256) row after the keyed rows that begin at row ${this.firstKeyed}: the chain was rewritten` };
      if (this.anchoredKeyedFrom !== null && id >= this.anchoredKeyedFrom)
        return { badId: id, reason: `an unkeyed (plain SHA-256) row where the anchors record keyed rows from row ${this.anchoredKeyedFrom}: the chain was rewritten without the key` };
      if (rowHash(this.prevHash, row) !== r.hash) return { badId: id, reason: 'hash does not match the row contents' };
    } else {
      if (!this.key) return { badId: id, reason: 'a keyed row, but no audit key is available to check it (AETHER_AUDIT_KEY or $AETHER_HOME/audit.key)' };
      if (this.firstKeyed === null && this.anchoredKeyedFrom !== null && id !== this.anchoredKeyedFrom)
        return { badId: id, reason: `the keyed rows begin at row ${id} but the anchors record row ${this.anchoredKeyedFrom}` };
      if (rowHmac(this.key, this.prevHash, row) !== r.hash) return { badId: id, reason: 'hash does not match the row contents under the audit key (edited, or written without the key)' };
      this.firstKeyed ??= id;
    }
    for (const a of this.anchored.get(id) ?? [])
      if (a.hash !== r.hash) return { badId: id, reason: `row ${id} is not the row anchored at ${a.at}: the chain was rewritten` };
    this.prevHash = r.hash;
    this.nextId++;
    return null;
  }

  /** After the last row: a tail cut below the newest anchor. */
  end(): Broken | null {
    const n = this.newest;
    if (n && n.seq > this.rows) return { badId: this.rows + 1, reason: `the chain ends at row ${this.rows} but row ${n.seq} was anchored at ${n.at}: rows were removed from the tail` };
    return null;
  }
}

export type VerifyResult =
  | { ok: true; rows: number; seq: number; head: string; keyedFrom: number | null; anchors: number }
  | { ok: false; rows: number; badId: number; reason: string };

/** Walks the whole chain in id order against the key and the anchors; names the first bad row. */
export async function verifyAudit(db: Db, opts: { key: Buffer | null; anchors: readonly Anchor[] }, batch = 1000): Promise<VerifyResult> {
  const walker = new ChainWalker(opts.key, opts.anchors);
  const broken = (b: Broken): VerifyResult => ({ ok: false, rows: walker.rows, ...b });
  if (walker.anchorFault) return broken(walker.anchorFault);
  for (;;) {
    const rows = await db.select().from(auditLog).where(gte(auditLog.id, walker.rows + 1)).orderBy(asc(auditLog.id)).limit(batch);
    for (const r of rows) {
      const b = walker.step(r);
      if (b) return broken(b);
    }
    if (rows.length < batch) break;
  }
  const b = walker.end();
  if (b) return broken(b);
  return { ok: true, rows: walker.rows, seq: walker.head.seq, head: walker.head.hash, keyedFrom: walker.keyedFrom, anchors: opts.anchors.length };
}

export type ChainReport = VerifyResult & { anchorLog: string | null; warnings: string[] };

/**
 * What `aether audit verify` and `GET /audit/verify` both run: the chain against the key and the
 * anchor log at `anchorPath`, with what weakens the verdict spelled out as warnings.
 */
export async function verifyAuditChain(db: Db, key: Buffer | null, anchorPath: string | null): Promise<ChainReport> {
  const warnings: string[] = [];
  const log = anchorPath ? await readAnchorLog(anchorPath) : null;
  if (!anchorPath) warnings.push('no anchor log is configured (AETHER_AUDIT_ANCHORS): a removed tail or a chain rewritten from its start cannot be detected');
  else if (!log?.exists) warnings.push(`no anchor log at ${anchorPath} yet: a removed tail or a chain rewritten from its start cannot be detected`);
  if (log?.unreadable.length) warnings.push(`anchor log ${anchorPath}: line(s) ${log.unreadable.join(', ')} are not anchors and were skipped`);
  const r = await verifyAudit(db, { key, anchors: log?.anchors ?? [] });
  if (r.ok && r.keyedFrom === null && r.rows > 0) warnings.push('no row is keyed yet: until one is, the chain proves nothing against someone with database access');
  return { ...r, anchorLog: anchorPath, warnings };
}
