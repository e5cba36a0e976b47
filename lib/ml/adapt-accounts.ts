import { and, asc, eq, ne } from 'drizzle-orm';
import { fills, orders } from '../../schema/index.ts';
import { listAccounts } from '../accounts/accounts.ts';
import { latestSettings, putSettings } from '../accounts/settings.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { DEFAULT_ADAPTATION_POLICY, adaptThresholds, type AdaptationPolicy, type AdaptationStats, type ClosedTrade, type ExitReason } from '../strategy/adaptation.ts';

/**
 * Per-account threshold adaptation from the account's closed trades (I/O around the pure
 * adaptThresholds): entry/exit land in a new trading-settings version, SL/TP multiples in a new
 * risk-settings version, each audited with before/after by putSettings.
 */
function exitReason(intent: string, type: string): ExitReason {
  if (type.includes('take-profit')) return 'take-profit';
  if (intent === 'protective' || type.includes('stop-loss')) return 'stop-loss';
  return 'signal';
}

/** Sells with realised PnL (hedge legs excluded: they are not strategy exits), oldest first. */
export async function closedTrades(tx: Tx, accountId: string): Promise<ClosedTrade[]> {
  const rows = await tx
    .select({ ts: fills.ts, price: fills.price, qty: fills.qty, pnl: fills.realizedPnl, intent: orders.intent, type: orders.type })
    .from(fills)
    .innerJoin(orders, eq(orders.id, fills.orderId))
    .where(and(eq(fills.accountId, accountId), eq(fills.side, 'sell'), ne(orders.intent, 'hedge')))
    .orderBy(asc(fills.ts));
  return rows.map((r) => {
    const pnl = Number(r.pnl);
    const basis = Number(r.price) * Number(r.qty) - pnl; // what the sold quantity cost
    return { closedAt: r.ts.getTime(), netReturn: basis > 0 ? pnl / basis : 0, exitReason: exitReason(r.intent, r.type) };
  });
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
    const r = adaptThresholds(accountId, current, trades, policy);
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
