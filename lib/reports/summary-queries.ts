import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { accountCycles, candles, equitySnapshots, hedgeState, orders, positions, simState, tradingState } from '../../schema/index.ts';
import type { Account } from '../accounts/accounts.ts';
import { allLatestSettings } from '../accounts/settings.ts';
import type { Clock } from '../clock.ts';
import { latestBalances } from '../cycle/live-store.ts';
import type { Db, Tx } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { nextCronTime } from '../runtime/cron-next.ts';
import { parseCron, type CronSchedule } from '../runtime/cron.ts';
import { summarizeAccount, totalsByMode, type AccountFacts, type Marks, type Summary } from './account-summary.ts';

/**
 * The summary's reads: one account-scoped transaction per account (row-level security), then the
 * marks of every asset they hold in one query. The one path `GET /summary`, `GET
 * /accounts/{account}/summary` and `aether status` all take.
 */

const num = (v: string | null): number | null => (v === null ? null : Number(v));
/** Orders still working on the venue (or not yet known to have stopped). */
const WORKING = ['pending', 'open', 'unknown'] as const;
const MAX_ORDERS = 100;

export async function readAccountFacts(tx: Tx, account: Pick<Account, 'id' | 'slug' | 'name' | 'createdAt'>): Promise<AccountFacts & { candleInterval: number }> {
  const id = account.id;
  const s = await allLatestSettings(tx, id);
  const [ts] = await tx.select().from(tradingState).where(eq(tradingState.accountId, id));
  const [eq1] = await tx.select().from(equitySnapshots).where(eq(equitySnapshots.accountId, id)).orderBy(desc(equitySnapshots.ts)).limit(1);
  const [traded] = await tx
    .select({ mode: accountCycles.mode })
    .from(accountCycles)
    .where(and(eq(accountCycles.accountId, id), inArray(accountCycles.outcome, ['done', 'halted'])))
    .orderBy(desc(accountCycles.finishedAt))
    .limit(1);
  // Equity (and the hedge ratio) marked in the other mode — before a switch between simulation and live — is not this mode's money.
  const sameMode = traded?.mode === (s.simulation.value.enabled ? 'sim' : 'live');
  const [hs] = await tx.select().from(hedgeState).where(eq(hedgeState.accountId, id));
  const [cycle] = await tx.select().from(accountCycles).where(eq(accountCycles.accountId, id)).orderBy(desc(accountCycles.finishedAt)).limit(1);
  const pos = await tx.select().from(positions).where(eq(positions.accountId, id)).orderBy(positions.pair);
  const open = await tx
    .select()
    .from(orders)
    .where(and(eq(orders.accountId, id), inArray(orders.status, [...WORKING])))
    .orderBy(desc(orders.decidedAt))
    .limit(MAX_ORDERS);
  return {
    account: { id, slug: account.slug, name: account.name, createdAt: account.createdAt.getTime() },
    candleInterval: s.trading.value.candleInterval,
    simulation: { enabled: s.simulation.value.enabled, initialUsd: s.simulation.value.initialUsd },
    limits: { softDailyDrawdown: s.risk.value.softDailyDrawdown, hardDailyDrawdown: s.risk.value.hardDailyDrawdown },
    tradingState: ts ? { state: ts.state, since: ts.since.getTime(), reason: ts.reason, dayKey: ts.dayKey, dayStartEquityUsd: Number(ts.dayStartEquityUsd), drawdown: ts.drawdown } : null,
    equity: eq1 && sameMode ? { ts: eq1.ts.getTime(), equityUsd: Number(eq1.equityUsd), cashUsd: Number(eq1.cashUsd), hedgeRatio: eq1.hedgeRatio, drawdownFromPeak: eq1.drawdown } : null,
    balances: s.simulation.value.enabled ? await simBalances(tx, id) : await liveBalances(tx, id),
    positions: pos.map((p) => ({ pair: p.pair, qty: Number(p.qty), avgPrice: Number(p.avgPrice), stopPrice: num(p.stopPrice), takeProfitPrice: num(p.takeProfitPrice), openedAt: p.openedAt?.getTime() ?? null })),
    openOrders: open.map((o) => ({ id: o.id, clientId: o.clientId, pair: o.pair, side: o.side, type: o.type, intent: o.intent, amount: Number(o.amount), price: num(o.price), status: o.status, decidedAt: o.decidedAt.getTime() })),
    hedge: hs ? { mode: hs.mode, target: hs.target, actual: sameMode ? hs.actual : null, reason: hs.reason, updatedAt: hs.updatedAt.getTime() } : null,
    lastCycle: cycle ? { barTime: cycle.barTime.getTime(), outcome: cycle.outcome, finishedAt: cycle.finishedAt.getTime() } : null,
  };
}

/** The simulator's balances now (null before its first order job stored them). */
async function simBalances(tx: Tx, accountId: string): Promise<Record<string, number> | null> {
  const [row] = await tx.select({ balances: sql<Record<string, number>>`${simState.state} -> 'balances'` }).from(simState).where(eq(simState.accountId, accountId));
  return row?.balances ?? null;
}

/** A live account's books after its last cycle, else its opening balances (null before its first reconciliation). */
async function liveBalances(tx: Tx, accountId: string): Promise<Record<string, number> | null> {
  return ((await latestBalances(tx, accountId, 'books')) ?? (await latestBalances(tx, accountId, 'opening')))?.totals ?? null;
}

/** The newest stored close of each pair at `interval`. */
export async function latestCloses(db: Db, pairs: readonly string[], interval: number): Promise<Marks> {
  if (!pairs.length) return {};
  const rows = await db
    .selectDistinctOn([candles.pair], { pair: candles.pair, close: candles.close })
    .from(candles)
    .where(and(inArray(candles.pair, [...pairs]), eq(candles.interval, interval)))
    .orderBy(candles.pair, desc(candles.openTime));
  return Object.fromEntries(rows.map((r) => [r.pair, Number(r.close)]));
}

let tickSchedule: CronSchedule | undefined;
/** When the next cycle starts: stack.yml's tick schedule (read once; it is part of the release). */
export async function nextCycleAt(now: number): Promise<number> {
  if (!tickSchedule) {
    // Imported at the first summary: reading stack.yml takes a YAML parser the api's start need not load.
    const { cronSchedules, loadStack } = await import('../runtime/stack.ts');
    tickSchedule = parseCron(cronSchedules(loadStack()).find((s) => s.function === 'tick')?.schedule ?? '1 * * * *');
  }
  return nextCronTime(tickSchedule, now);
}

/** The summary of the given accounts (the caller decides which the user may see), totals per mode. */
export async function loadSummary(db: Db, clock: Clock, accounts: ReadonlyArray<Pick<Account, 'id' | 'slug' | 'name' | 'createdAt'>>): Promise<Summary> {
  const facts = await Promise.all(accounts.map((a) => withAccount(db, a.id, (tx) => readAccountFacts(tx, a))));
  const now = clock.now();
  const marks: Record<string, number> = {};
  for (const interval of new Set(facts.map((f) => f.candleInterval))) {
    const mine = facts.filter((f) => f.candleInterval === interval);
    const assets = new Set(mine.flatMap((f) => [...Object.keys(f.balances ?? {}), ...f.positions.map((p) => p.pair.split('/')[0]!)]));
    Object.assign(marks, await latestCloses(db, [...assets].filter((a) => a !== 'USD').map((a) => `${a}/USD`), interval));
  }
  const next = await nextCycleAt(now);
  const summaries = facts.map((f) => summarizeAccount(f, marks, now, next));
  return { at: new Date(now).toISOString(), accounts: summaries, totals: totalsByMode(summaries) };
}
