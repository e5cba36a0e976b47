import { and, eq } from 'drizzle-orm';
import { accountCycles } from '../../schema/index.ts';
import type { Account } from '../accounts/accounts.ts';
import { appendAudit } from '../audit/index.ts';
import type { AppContext } from '../context.ts';
import { withAccount } from '../db/scope.ts';
import { jobId } from '../queue/jobs.ts';

/** The bar the scheduled cycle trades: tick ingests and scores 1h candles (functions/tick). */
const INTERVAL_MS = 3_600_000;

/** Open time of the newest closed bar at `now`. */
export const latestClosedBar = (now: number): number => Math.floor(now / INTERVAL_MS) * INTERVAL_MS - INTERVAL_MS;

export interface CycleRequest {
  barTime: number;
  /** The tick job that runs it (tick → score → an order job per account, as the schedule's). */
  jobId: string;
  /** False when this bar's cycle was already asked for (now, or by the schedule): nothing new was queued or audited. */
  queued: boolean;
}

/**
 * Runs a cycle for the newest closed bar now, the scheduled way: a `tick` job (candles in, then
 * `score`, then one `order` job per account), under the job ids the schedule's jobs use for the
 * bar's score and order jobs — so asking twice, or after the schedule's own tick, trades the bar
 * once. A new request is audited (who, how) in the same transaction that queues it.
 */
export async function requestCycle(ctx: Pick<AppContext, 'db' | 'queue' | 'clock'>, by: { userId: string | null; via: 'api' | 'cli' }): Promise<CycleRequest> {
  const now = ctx.clock.now();
  const barTime = latestClosedBar(now);
  const id = jobId('tick', 'now', barTime);
  const asked = await Promise.all([ctx.queue.queue('tick').getJob(id), ctx.queue.queue('score').getJob(jobId('score', barTime))]);
  if (asked.some(Boolean)) return { barTime, jobId: id, queued: false };
  await ctx.db.transaction(async (tx) => {
    await appendAudit(tx, { action: 'cycle.requested', userId: by.userId, details: { barTime: new Date(barTime).toISOString(), via: by.via, job: id } }, ctx.clock);
    await ctx.queue.enqueue('tick', { scheduledAt: now }, { jobId: id });
  });
  return { barTime, jobId: id, queued: true };
}

export interface CycleOutcome {
  account: string;
  outcome: 'done' | 'skipped' | 'halted' | 'failed' | null;
}

/** How each account's order job for the bar ended (null: not finished yet). */
export async function cycleOutcomes(ctx: Pick<AppContext, 'db'>, accounts: ReadonlyArray<Pick<Account, 'id' | 'slug'>>, barTime: number): Promise<CycleOutcome[]> {
  return Promise.all(
    accounts.map(async (a) => {
      const [row] = await withAccount(ctx.db, a.id, (tx) =>
        tx.select({ outcome: accountCycles.outcome }).from(accountCycles).where(and(eq(accountCycles.accountId, a.id), eq(accountCycles.barTime, new Date(barTime)))),
      );
      return { account: a.slug, outcome: row?.outcome ?? null };
    }),
  );
}
