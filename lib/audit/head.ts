import type { AppContext } from '../context.ts';
import { anchorHead, anchorLogPath, chainHead } from './anchors.ts';

export interface AuditHead {
  seq: number;
  hash: string;
  /** In the anchor log outside the database (now or by an earlier run with the same head). */
  anchored: boolean;
}

/**
 * What the tick (hourly) and report (daily) jobs run: anchor the chain's head where this process has
 * an anchor log (embedded: $AETHER_HOME) and return it for the job's answer. An anchor that cannot be
 * written is logged as an error, never fails the job — a full disk must not stop trading — and a
 * database that no longer holds the last anchored row is logged as an error at once rather than when
 * someone next runs `aether audit verify`.
 */
export async function anchorAuditHead(ctx: Pick<AppContext, 'db' | 'config' | 'clock' | 'logger'>): Promise<AuditHead | null> {
  const path = anchorLogPath(ctx.config);
  const log = ctx.logger.child({ component: 'audit-anchor' });
  if (!path) {
    // The cluster's functions mount no volume: its anchor is the `aether audit anchor` CronJob.
    log.debug('AETHER_AUDIT_ANCHORS is unset: this process does not anchor the audit head');
    return unanchored(ctx);
  }
  try {
    const a = await anchorHead(ctx.db, path, ctx.clock);
    if (a.mismatch) log.error({ file: path, reason: a.mismatch }, 'the audit chain no longer matches its last anchor');
    if (a.written) log.info({ file: path, seq: a.head!.seq, hash: a.head!.hash }, 'audit head anchored');
    return a.head && { ...a.head, anchored: a.mismatch === null };
  } catch (err) {
    log.error({ err, file: path }, 'the audit head could not be anchored');
    return unanchored(ctx);
  }
}

async function unanchored(ctx: Pick<AppContext, 'db'>): Promise<AuditHead | null> {
  const head = await chainHead(ctx.db);
  return head && { ...head, anchored: false };
}
