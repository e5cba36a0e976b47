import { and, asc, desc, eq, gte, lt, sql } from 'drizzle-orm';
import { dailyPnl as dailyPnlTable, equitySnapshots, fills } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';
import { dailyPnl, type DayPnl } from './daily-pnl.ts';

const DAY_MS = 86_400_000;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Epoch ms of 00:00 UTC of `day` (YYYY-MM-DD); throws on a day that is not a calendar date. */
export function dayStart(day: string): number {
  const t = Date.parse(`${day}T00:00:00Z`);
  if (!DAY_RE.test(day) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day) throw new RangeError(`not a UTC day: ${day}`);
  return t;
}

export const utcDay = (t: number): string => new Date(t).toISOString().slice(0, 10);

/** The days the report job closes when none is given: yesterday (final) and today so far. */
export const defaultReportDays = (now: number): string[] => [utcDay(now - DAY_MS), utcDay(now)];

/**
 * Daily PnL of one UTC day for the transaction's account, from its equity snapshots (the day opens at
 * the last equity before it, or at its own first snapshot on the account's first day) and its fills
 * (fees, trade count). Null when the day has no snapshot.
 */
export async function computeDay(tx: Tx, accountId: string, day: string): Promise<DayPnl | null> {
  const start = new Date(dayStart(day));
  const end = new Date(start.getTime() + DAY_MS);
  const cols = { ts: equitySnapshots.ts, equity: equitySnapshots.equityUsd };
  const [before] = await tx
    .select(cols)
    .from(equitySnapshots)
    .where(and(eq(equitySnapshots.accountId, accountId), lt(equitySnapshots.ts, start)))
    .orderBy(desc(equitySnapshots.ts))
    .limit(1);
  const within = await tx
    .select(cols)
    .from(equitySnapshots)
    .where(and(eq(equitySnapshots.accountId, accountId), gte(equitySnapshots.ts, start), lt(equitySnapshots.ts, end)))
    .orderBy(asc(equitySnapshots.ts));
  if (within.length === 0) return null;
  // Fees summed exactly in SQL, then one conversion: a day of many small fees does not drift.
  const [agg] = await tx
    .select({ fees: sql<string>`coalesce(sum(${fills.fee}), 0)::text`, trades: sql<number>`count(*)::int` })
    .from(fills)
    .where(and(eq(fills.accountId, accountId), gte(fills.ts, start), lt(fills.ts, end)));
  const snaps = [...(before ? [before] : []), ...within].map((s) => ({ ts: s.ts.getTime(), equity: Number(s.equity) }));
  const fillRows = agg && agg.trades > 0 ? [{ ts: start.getTime(), fee: Number(agg.fees) }] : [];
  const row = dailyPnl(snaps, fillRows).find((d) => d.day === day);
  if (!row) throw new Error(`daily PnL lost day ${day}`);
  return { ...row, trades: agg?.trades ?? 0 };
}

/** Binary-float noise (1111.1100000000006) stays out of the exact column: 8 decimals, trailing zeros dropped. */
const usd = (x: number): string => String(Number(x.toFixed(8)));

/** Computes `day` and upserts its row (primary key account_id, day): running it again rewrites the same row. */
export async function upsertDay(tx: Tx, accountId: string, day: string, clock: Clock): Promise<DayPnl | null> {
  const d = await computeDay(tx, accountId, day);
  if (!d) return null;
  const values = {
    startEquityUsd: usd(d.startEquityUsd),
    endEquityUsd: usd(d.endEquityUsd),
    pnlUsd: usd(d.pnlUsd),
    pnlPct: d.pnlPct,
    feesUsd: usd(d.feesUsd),
    trades: String(d.trades),
    updatedAt: new Date(clock.now()),
  };
  await tx
    .insert(dailyPnlTable)
    .values({ accountId, day, ...values })
    .onConflictDoUpdate({ target: [dailyPnlTable.accountId, dailyPnlTable.day], set: values });
  return d;
}
