import type { AccountMode, AccountSummary, Summary } from './account-summary.ts';

/**
 * The summary as `aether status` prints it: one row per account, each account's holdings,
 * positions (with their stops) and open orders below the table, then the totals per mode.
 */

const DASH = '—';
const money = (x: number | null): string => (x === null ? DASH : x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const pct = (x: number | null, signed = false): string => (x === null ? DASH : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(2)}%`);
/** A time as `2026-01-05 13:01Z`: minutes are what a cycle is scheduled in. */
const when = (iso: string | null): string => (iso === null ? DASH : `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`);
const MODE: Record<AccountMode, string> = { simulation: 'SIMULATION', live: 'LIVE' };
const qty = (x: number): string => String(Number(x.toPrecision(10)));

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  // Text columns left, numbers right (a header is aligned as its column).
  const right = rows[0]!.map((_, i) => rows.slice(1).some((r) => /^[+-]?[\d,.]+%?$/.test(r[i]!)));
  return rows.map((r) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function details(a: AccountSummary): string[] {
  const out: string[] = [];
  if (a.tradingState.state !== 'ACTIVE') out.push(`  ${a.tradingState.state} since ${when(a.tradingState.since)}: ${a.tradingState.reason ?? 'no reason recorded'}`);
  // Cash alone is the table's CASH column already.
  if (a.holdings.some((h) => h.asset !== 'USD'))
    out.push(`  holdings: ${a.holdings.map((h) => (h.asset === 'USD' ? `${money(h.amount)} USD` : `${qty(h.amount)} ${h.asset} (${money(h.valueUsd)} USD)`)).join(', ')}`);
  for (const p of a.positions)
    out.push(`  position ${p.pair} ${qty(p.qty)} @ ${qty(p.avgPrice)}, mark ${p.markPrice === null ? DASH : qty(p.markPrice)}, stop ${p.stopPrice === null ? DASH : qty(p.stopPrice)}, take-profit ${p.takeProfitPrice === null ? DASH : qty(p.takeProfitPrice)}`);
  for (const o of a.openOrders) out.push(`  open order ${o.side} ${qty(o.amount)} ${o.pair} ${o.type}${o.price === null ? '' : ` @ ${qty(o.price)}`} (${o.intent}, ${o.status})`);
  if (a.lastCycle && a.lastCycle.outcome !== 'done') out.push(`  last cycle ${a.lastCycle.outcome} (bar ${when(a.lastCycle.barTime)})`);
  return out.length ? [`${a.slug}:`, ...out] : [];
}

export function summaryTable(s: Summary): string {
  if (!s.accounts.length) return 'no accounts yet (onboarding creates company, director-1, director-2)\n';
  const head = ['ACCOUNT', 'MODE', 'STATE', 'EQUITY USD', 'CASH USD', 'TODAY', 'DRAWDOWN', 'LIMIT soft/hard', 'HEDGE', 'TARGET', 'LAST CYCLE', 'NEXT CYCLE'];
  const rows = s.accounts.map((a) => [
    a.slug,
    MODE[a.mode],
    a.tradingState.state,
    money(a.equityUsd),
    money(a.cashUsd),
    pct(a.today.pnlPct, true),
    pct(a.drawdown.daily),
    `${pct(a.drawdown.softLimit)}/${pct(a.drawdown.hardLimit)}`,
    pct(a.hedge.actual),
    pct(a.hedge.target),
    when(a.lastCycle?.finishedAt ?? null),
    when(a.nextCycleAt),
  ]);
  const totals = (['simulation', 'live'] as const)
    .filter((m) => s.totals[m].accounts > 0)
    .map((m) => {
      const t = s.totals[m];
      const unvalued = t.unvalued ? `, ${t.unvalued} not valued yet` : '';
      return `total ${MODE[m]}: ${t.accounts} account(s), equity ${money(t.equityUsd)} USD, cash ${money(t.cashUsd)} USD, today ${pct(t.todayPnlPct, true)}${unvalued}`;
    });
  const more = s.accounts.flatMap(details);
  return [...table([head, ...rows]), '', ...(more.length ? [...more, ''] : []), ...totals, `(simulated and live money are never added together; as of ${when(s.at)})`].join('\n') + '\n';
}
