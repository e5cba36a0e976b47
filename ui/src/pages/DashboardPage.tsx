import type { Schemas } from '../api/client.ts';
import { DataState } from '../components/DataState.tsx';
import { DataTable, type Column } from '../components/DataTable.tsx';
import { DrawdownMeter } from '../components/DrawdownMeter.tsx';
import { HoldingsList } from '../components/HoldingsList.tsx';
import { Link } from '../components/Link.tsx';
import { ModeBadge } from '../components/ModeBadge.tsx';
import { Percent } from '../components/Percent.tsx';
import { Time } from '../components/Time.tsx';
import { TradingStateCell } from '../components/TradingStateCell.tsx';
import { formatPct, formatUsd } from '../lib/format.ts';
import { loadSummary } from '../lib/summary-prefetch.ts';
import { usePoll } from '../lib/use-poll.ts';

type Row = Schemas['AccountSummary'];

const columns: ReadonlyArray<Column<Row>> = [
  { header: 'Account', cell: (a) => <Link to={`/accounts/${a.slug}`}>{a.name}</Link> },
  { header: 'Mode', cell: (a) => <ModeBadge mode={a.mode} /> },
  { header: 'Trading state', cell: (a) => <TradingStateCell state={a.tradingState} /> },
  { header: 'Equity', numeric: true, cell: (a) => formatUsd(a.equityUsd) },
  { header: 'Cash', numeric: true, cell: (a) => formatUsd(a.cashUsd) },
  { header: 'Holdings', cell: (a) => <HoldingsList holdings={a.holdings} /> },
  { header: "Today's PnL", numeric: true, cell: (a) => <Percent value={a.today.pnlPct} signed /> },
  { header: 'Drawdown vs limit', cell: (a) => <DrawdownMeter daily={a.drawdown.daily} softLimit={a.drawdown.softLimit} hardLimit={a.drawdown.hardLimit} /> },
  { header: 'Hedge actual / target', numeric: true, cell: (a) => `${formatPct(a.hedge.actual)} / ${formatPct(a.hedge.target)}${a.hedge.mode === 'manual' ? ' (manual)' : ''}` },
  { header: 'Last cycle', cell: (a) => (a.lastCycle ? <><Time iso={a.lastCycle.finishedAt} /> <span className="muted">({a.lastCycle.outcome})</span></> : <span className="muted">not yet</span>) },
];

/** Every account the user may see, refreshed every few seconds; totals per mode, never simulated and live money added together. */
export function DashboardPage() {
  const summary = usePoll(loadSummary, [], 5000);
  return (
    <>
      <h1>Dashboard</h1>
      <DataState {...summary} what="accounts" isEmpty={(s) => s.accounts.length === 0} empty={<p>No accounts yet. An admin creates them in the setup wizard.</p>} onRetry={summary.reload}>
        {(s) => (
          <>
            <p className="muted">
              As of <Time iso={s.at} />; refreshes every 5 seconds.
            </p>
            <DataTable
              caption="Accounts"
              columns={columns}
              rows={s.accounts}
              rowKey={(a) => a.slug}
              footer={(['simulation', 'live'] as const)
                .filter((m) => s.totals[m].accounts > 0)
                .map((m) => {
                  const t = s.totals[m];
                  return (
                    <tr key={m}>
                      <th scope="row">All {m === 'live' ? 'live' : 'simulated'} ({t.accounts})</th>
                      <td><ModeBadge mode={m} /></td>
                      <td />
                      <td className="num">{formatUsd(t.equityUsd)}</td>
                      <td className="num">{formatUsd(t.cashUsd)}</td>
                      <td>{t.unvalued > 0 && <span className="muted">{t.unvalued} not valued yet</span>}</td>
                      <td className="num"><Percent value={t.todayPnlPct} signed /></td>
                      <td colSpan={3} />
                    </tr>
                  );
                })}
            />
          </>
        )}
      </DataState>
    </>
  );
}
