import type { DayPnl } from './daily-pnl.ts';
import { and, asc, desc, eq, gt, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { dailyPnl, equitySnapshots, fills, hedgeHistory, hedgeState, orders } from '../../schema/index.ts';
import type { Tx } from '../db/client.ts';
import type { HedgeSale } from '../hedge/performance.ts';
import type { TradeCause } from '../strategy/trade-cause.ts';

/**
 * The reports' reads. Every function takes the transaction of `withAccount` and also filters by
 * account id: row-level security is the guarantee, the filter keeps the plans on the indexes.
 */

/** A stored daily_pnl row has the shape the computation produces. */
export type DailyPnlRow = DayPnl;

export async function dailyPnlRows(tx: Tx, accountId: string, range: { from?: string; to?: string }): Promise<DailyPnlRow[]> {
  const where: SQL[] = [eq(dailyPnl.accountId, accountId)];
  if (range.from) where.push(gte(dailyPnl.day, range.from));
  if (range.to) where.push(lte(dailyPnl.day, range.to));
  const rows = await tx.select().from(dailyPnl).where(and(...where)).orderBy(asc(dailyPnl.day));
  return rows.map((r) => ({
    day: r.day,
    startEquityUsd: Number(r.startEquityUsd),
    endEquityUsd: Number(r.endEquityUsd),
    pnlUsd: Number(r.pnlUsd),
    pnlPct: r.pnlPct,
    feesUsd: Number(r.feesUsd),
    trades: Number(r.trades),
  }));
}

/** One trade (fill) with its cause and its order's why: exact decimals stay strings. */
export interface TradeRow {
  id: string;
  time: Date;
  pair: string;
  side: 'buy' | 'sell';
  qty: string;
  price: string;
  feeUsd: string;
  realizedPnlUsd: string;
  clientId: string;
  cause: TradeCause;
  intent: string;
  reason: string | null;
  modelVersion: string | null;
}

export { TRADE_CAUSES, type TradeCause } from '../strategy/trade-cause.ts';

export interface TradeFilter {
  pair?: string;
  side?: 'buy' | 'sell';
  from?: Date;
  to?: Date;
}

/** Keyset position: the (time, id) of the last row seen. */
export interface TradeCursor {
  ts: Date;
  id: string;
}

export const encodeCursor = (c: TradeCursor): string => `${c.ts.getTime()}_${c.id}`;
export const CURSOR_PATTERN = /^\d{1,15}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function decodeCursor(s: string): TradeCursor {
  if (!CURSOR_PATTERN.test(s)) throw new RangeError(`not a trade cursor: ${s}`);
  const [ms, id] = s.split('_') as [string, string];
  return { ts: new Date(Number(ms)), id };
}

/**
 * A page of trades, newest first (`direction: 'desc'`, rows strictly before the cursor) or oldest first
 * (`'asc'`, strictly after it), ordered by (time, id) so pages never overlap or skip.
 */
export async function tradesPage(
  tx: Tx,
  accountId: string,
  filter: TradeFilter,
  page: { limit: number; cursor?: TradeCursor; direction: 'asc' | 'desc' },
): Promise<TradeRow[]> {
  const where: SQL[] = [eq(fills.accountId, accountId)];
  if (filter.pair) where.push(eq(fills.pair, filter.pair));
  if (filter.side) where.push(eq(fills.side, filter.side));
  if (filter.from) where.push(gte(fills.ts, filter.from));
  if (filter.to) where.push(lt(fills.ts, filter.to));
  if (page.cursor) {
    const { ts, id } = page.cursor;
    const cmp = page.direction === 'desc' ? or(lt(fills.ts, ts), and(eq(fills.ts, ts), lt(fills.id, id))) : or(gt(fills.ts, ts), and(eq(fills.ts, ts), gt(fills.id, id)));
    where.push(cmp!);
  }
  const dir = page.direction === 'desc' ? desc : asc;
  return tx
    .select({
      id: fills.id,
      time: fills.ts,
      pair: fills.pair,
      side: fills.side,
      qty: fills.qty,
      price: fills.price,
      feeUsd: fills.fee,
      realizedPnlUsd: fills.realizedPnl,
      clientId: orders.clientId,
      cause: fills.cause,
      intent: orders.intent,
      reason: orders.reason,
      modelVersion: sql<string | null>`coalesce(${fills.modelVersion}, ${orders.modelVersion})`,
    })
    .from(fills)
    .innerJoin(orders, eq(orders.id, fills.orderId))
    .where(and(...where))
    .orderBy(dir(fills.ts), dir(fills.id))
    .limit(page.limit);
}

export interface SnapshotRow {
  ts: number;
  equity: number;
  cash: number;
  positions: number;
  hedgeRatio: number;
}

/**
 * Equity snapshots in [from, to), ascending. With `every`, the last snapshot of each UTC hour or day
 * (the bucket's close), chosen in the database so a long range never crosses the wire whole.
 */
export async function equitySeries(tx: Tx, accountId: string, range: { from?: Date; to?: Date; every?: 'hour' | 'day' }): Promise<SnapshotRow[]> {
  const where: SQL[] = [eq(equitySnapshots.accountId, accountId)];
  if (range.from) where.push(gte(equitySnapshots.ts, range.from));
  if (range.to) where.push(lt(equitySnapshots.ts, range.to));
  const cols = {
    ts: equitySnapshots.ts,
    equity: equitySnapshots.equityUsd,
    cash: equitySnapshots.cashUsd,
    positions: equitySnapshots.positionsUsd,
    hedgeRatio: equitySnapshots.hedgeRatio,
  };
  let rows: Array<{ ts: Date; equity: string; cash: string; positions: string; hedgeRatio: number }>;
  if (range.every) {
    const unit = sql.raw(`'${range.every}'`); // from a closed enum, never user text
    const bucket = sql`date_trunc(${unit}, ${equitySnapshots.ts} at time zone 'UTC')`;
    const inner = tx
      .selectDistinctOn([bucket], cols)
      .from(equitySnapshots)
      .where(and(...where))
      .orderBy(bucket, desc(equitySnapshots.ts))
      .as('b');
    rows = await tx.select().from(inner).orderBy(asc(inner.ts));
  } else {
    rows = await tx.select(cols).from(equitySnapshots).where(and(...where)).orderBy(asc(equitySnapshots.ts));
  }
  return rows.map((r) => ({ ts: r.ts.getTime(), equity: Number(r.equity), cash: Number(r.cash), positions: Number(r.positions), hedgeRatio: r.hedgeRatio }));
}

/**
 * The USD each hedge sale raised (proceeds net of fee) up to `to`: from the account's first one, since
 * USD raised before a report's range and still held is hedge within it (lib/hedge/performance.ts).
 */
export async function hedgeSales(tx: Tx, accountId: string, range: { to?: Date }): Promise<HedgeSale[]> {
  const where: SQL[] = [eq(fills.accountId, accountId), eq(fills.cause, 'hedge'), eq(fills.side, 'sell')];
  if (range.to) where.push(lt(fills.ts, range.to));
  const rows = await tx
    .select({ ts: fills.ts, usd: sql<string>`${fills.qty} * ${fills.price} - ${fills.fee}` })
    .from(fills)
    .where(and(...where))
    .orderBy(asc(fills.ts));
  return rows.map((r) => ({ time: r.ts.getTime(), usd: Number(r.usd) }));
}

export type HedgeStateRow = typeof hedgeState.$inferSelect;
export type HedgeHistoryRow = typeof hedgeHistory.$inferSelect;

export async function currentHedge(tx: Tx, accountId: string): Promise<HedgeStateRow | null> {
  const [row] = await tx.select().from(hedgeState).where(eq(hedgeState.accountId, accountId)).limit(1);
  return row ?? null;
}

/** The newest `limit` hedge changes, returned oldest first. */
export async function hedgeChanges(tx: Tx, accountId: string, range: { from?: Date; to?: Date; limit: number }): Promise<HedgeHistoryRow[]> {
  const where: SQL[] = [eq(hedgeHistory.accountId, accountId)];
  if (range.from) where.push(gte(hedgeHistory.ts, range.from));
  if (range.to) where.push(lt(hedgeHistory.ts, range.to));
  const rows = await tx.select().from(hedgeHistory).where(and(...where)).orderBy(desc(hedgeHistory.ts), desc(hedgeHistory.id)).limit(range.limit);
  return rows.reverse();
}
