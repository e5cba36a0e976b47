import { and, desc, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { riskEvents, systemEvents } from '../../schema/index.ts';
import type { Account } from '../accounts/accounts.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { tapErrorLines, type ErrorLine, type Logger } from '../log.ts';

/**
 * The system log: recent errors (every error-level log line of a process with a database) and risk
 * events (refusals, trading-state changes, admin halts, reconciliation differences — risk_events,
 * written by the cycle). Errors are written in the background, a few at a time, never blocking or
 * failing what logged them; the table keeps the newest KEEP rows.
 */
export const KEEP = 10_000;
/** Lines waiting to be written; more are dropped (and counted) rather than held without bound. */
const MAX_PENDING = 200;
const MAX_DETAIL_CHARS = 4_000;
const SLUG = /^[a-z0-9][a-z0-9-]{0,39}$/;

export type SystemEventRow = typeof systemEvents.$inferInsert;

/** What of an error line is kept: where it came from, which account it names, the message and its (bounded) fields. */
export function eventOfLine(line: ErrorLine, now: number): SystemEventRow {
  const f = line.fields;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const account = str(f.account);
  const { service: _service, stack: _stack, ...rest } = f;
  const err = rest.err && typeof rest.err === 'object' ? (rest.err as Record<string, unknown>) : null;
  if (err) rest.err = { type: err.type, message: err.message, code: err.code }; // stacks stay in the log
  const json = JSON.stringify(rest);
  return {
    ts: new Date(now),
    level: 'error',
    source: str(f.function) ?? str(f.queue) ?? str(f.route) ?? 'aether',
    account: account && SLUG.test(account) ? account : null,
    message: (line.msg || (err && typeof err.message === 'string' ? err.message : '') || 'error').slice(0, 500),
    detail: json.length <= MAX_DETAIL_CHARS ? rest : { truncated: json.slice(0, MAX_DETAIL_CHARS) },
  };
}

/**
 * Sends every error-level log line of this process to system_events until the returned stop is
 * called (which waits for what is pending). A failed write is logged at warn — never error, which
 * would come back here.
 */
export function recordSystemEvents(db: Db, logger: Logger, clock: Clock): () => Promise<void> {
  let pending: SystemEventRow[] = [];
  let dropped = 0;
  let writes = 0;
  let running: Promise<void> | null = null;
  const drain = async (): Promise<void> => {
    while (pending.length) {
      const batch = pending;
      pending = [];
      try {
        await db.insert(systemEvents).values(batch);
        // Pruned now and then, not on every write: the newest KEEP rows stay.
        if (++writes % 50 === 1)
          await db.execute(sql`delete from ${systemEvents} where ${systemEvents.ts} < (select ts from ${systemEvents} order by ts desc offset ${KEEP - 1} limit 1)`);
      } catch (err) {
        logger.warn({ err, lines: batch.length }, 'system log: error lines could not be recorded');
      }
    }
    if (dropped) {
      logger.warn({ dropped }, 'system log: error lines dropped (too many at once)');
      dropped = 0;
    }
  };
  tapErrorLines((line) => {
    if (pending.length >= MAX_PENDING) return void dropped++;
    pending.push(eventOfLine(line, clock.now()));
    running ??= drain().finally(() => {
      running = null;
    });
  });
  return async () => {
    tapErrorLines(null);
    await running;
  };
}

export type EventLevel = 'error' | 'risk';
export interface SystemEvent {
  id: string;
  ts: Date;
  level: EventLevel;
  source: string;
  account: string | null;
  code: string | null;
  message: string;
  detail: Record<string, unknown>;
}

export interface EventQuery {
  levels: readonly EventLevel[];
  /** The accounts whose events to show; global errors (no account) only with `global`. */
  accounts: readonly Pick<Account, 'id' | 'slug'>[];
  global: boolean;
  before?: Date;
  limit: number;
}

/** A risk event in words: the reason or detail it carries, else its code. */
function riskMessage(code: string, d: Record<string, unknown>): string {
  const text = [d.reason, d.detail].find((v): v is string => typeof v === 'string' && v !== '');
  if (code === 'RECONCILIATION_MISMATCH' && Array.isArray(d.unexplained)) return `reconciliation: ${d.unexplained.length} unexplained difference(s)`;
  return text ? `${code}: ${text}` : code;
}

/** The newest events of the chosen levels and accounts, newest first (risk events are read per account: row-level security). */
export async function listSystemEvents(db: Db, q: EventQuery): Promise<SystemEvent[]> {
  const out: SystemEvent[] = [];
  if (q.levels.includes('error') && (q.global || q.accounts.length)) {
    const where: SQL[] = [];
    const slugs = q.accounts.map((a) => a.slug);
    if (!q.global) where.push(inArray(systemEvents.account, slugs));
    if (q.before) where.push(lt(systemEvents.ts, q.before));
    const rows = await db
      .select()
      .from(systemEvents)
      .where(where.length ? and(...where) : undefined)
      .orderBy(desc(systemEvents.ts), desc(systemEvents.id))
      .limit(q.limit);
    for (const r of rows) out.push({ ...r, code: null, detail: r.detail as Record<string, unknown> });
  }
  if (q.levels.includes('risk')) {
    for (const a of q.accounts) {
      const where: SQL[] = [eq(riskEvents.accountId, a.id)];
      if (q.before) where.push(lt(riskEvents.ts, q.before));
      const rows = await withAccount(db, a.id, (tx) =>
        tx
          .select()
          .from(riskEvents)
          .where(and(...where))
          .orderBy(desc(riskEvents.ts), desc(riskEvents.id))
          .limit(q.limit),
      );
      for (const r of rows) {
        const detail = r.detail as Record<string, unknown>;
        out.push({ id: r.id, ts: r.ts, level: 'risk', source: 'risk', account: a.slug, code: r.code, message: riskMessage(r.code, detail), detail: r.clientId ? { clientId: r.clientId, ...detail } : detail });
      }
    }
  }
  return out.sort((x, y) => y.ts.getTime() - x.ts.getTime()).slice(0, q.limit);
}
