import { and, asc, eq, inArray, max } from 'drizzle-orm';
import { fills, settings } from '../../schema/index.ts';
import { listAccounts } from '../accounts/accounts.ts';
import { latestSettings, putSettings } from '../accounts/settings.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { DEFAULT_ADAPTATION_POLICY, adaptThresholds, closedTradesFromFills, type AdaptationPolicy, type AdaptationStats, type ClosedTrade } from '../strategy/adaptation.ts';

/**
 * Per-account threshold adaptation from the account's closed trades (I/O around the pure
 * adaptThresholds): entry/exit land in a new trading-settings version, SL/TP multiples in a new
 * risk-settings version, each audited with before/after by putSettings. The trades come from the
 * fills and the cause each was booked with (fills.cause) — the same function the backtest runs on
 * its own fills (lib/cycle/backtest-adaptation.ts), so live adapts as the backtest validated.
 */

/** The account's closed trades, oldest first: every fill (buys and hedge sales place the positions' opening times). */
export async function closedTrades(tx: Tx, accountId: string): Promise<ClosedTrade[]> {
  const rows = await tx
    .select({ ts: fills.ts, pair: fills.pair, side: fills.side, price: fills.price, qty: fills.qty, fee: fills.fee, pnl: fills.realizedPnl, order: fills.orderId, cause: fills.cause })
    .from(fills)
    .where(eq(fills.accountId, accountId))
    .orderBy(asc(fills.ts), asc(fills.tradeId));
  return closedTradesFromFills(
    rows.map((r) => ({ time: r.ts.getTime(), pair: r.pair, side: r.side, qty: Number(r.qty), price: Number(r.price), fee: Number(r.fee), realizedPnl: Number(r.pnl), order: r.order, cause: r.cause })),
  );
}

/** When the thresholds in force took effect: the newer of the latest trading and risk settings versions. */
async function thresholdsSince(tx: Tx, accountId: string): Promise<number> {
  const rows = await tx
    .select({ kind: settings.kind, at: max(settings.createdAt) })
    .from(settings)
    .where(and(eq(settings.accountId, accountId), inArray(settings.kind, ['trading', 'risk'])))
    .groupBy(settings.kind);
  return Math.max(Number.NEGATIVE_INFINITY, ...rows.map((r) => (r.at ? r.at.getTime() : Number.NEGATIVE_INFINITY)));
}

export interface AccountAdaptation {
  account: string;
  trades: number;
  changed: boolean;
  reasons: string[];
  stats: AdaptationStats;
  versions: { trading?: number; risk?: number };
}

export async function adaptAccount(db: Db, accountId: string, slug: string, clock: Clock, policy: AdaptationPolicy = DEFAULT_ADAPTATION_POLICY): Promise<AccountAdaptation> {
  return withAccount(db, accountId, async (tx) => {
    const trades = await closedTrades(tx, accountId);
    const trading = await latestSettings(tx, accountId, 'trading');
    const risk = await latestSettings(tx, accountId, 'risk');
    const current = { entry: trading.value.entryThreshold, exit: trading.value.exitThreshold, slMultiplier: risk.value.slAtrMultiple, tpMultiplier: risk.value.tpAtrMultiple };
    const r = adaptThresholds(accountId, current, trades, policy, await thresholdsSince(tx, accountId));
    const versions: AccountAdaptation['versions'] = {};
    if (r.change) {
      const a = r.change.after;
      if (a.entry !== current.entry || a.exit !== current.exit) versions.trading = (await putSettings(tx, accountId, 'trading', { ...trading.value, entryThreshold: a.entry, exitThreshold: a.exit }, null, clock)).version;
      if (a.slMultiplier !== current.slMultiplier || a.tpMultiplier !== current.tpMultiplier)
        versions.risk = (await putSettings(tx, accountId, 'risk', { ...risk.value, slAtrMultiple: a.slMultiplier, tpAtrMultiple: a.tpMultiplier }, null, clock)).version;
    }
    return { account: slug, trades: trades.length, changed: r.change !== null, reasons: r.change?.reasons ?? [], stats: r.stats, versions };
  });
}

export async function adaptAllAccounts(db: Db, clock: Clock, policy: AdaptationPolicy = DEFAULT_ADAPTATION_POLICY): Promise<AccountAdaptation[]> {
  const out: AccountAdaptation[] = [];
  for (const a of await listAccounts(db)) out.push(await adaptAccount(db, a.id, a.slug, clock, policy));
  return out;
}
