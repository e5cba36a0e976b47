import { api, unwrap } from '../api/client.ts';
import { AccountHeader } from '../components/AccountHeader.tsx';
import { Card } from '../components/Card.tsx';
import { DataState } from '../components/DataState.tsx';
import { EquityCurve } from '../components/EquityCurve.tsx';
import { HaltBanner } from '../components/HaltBanner.tsx';
import { HoldingsList } from '../components/HoldingsList.tsx';
import { KillSwitch } from '../components/KillSwitch.tsx';
import { OrdersTable } from '../components/OrdersTable.tsx';
import { PairPriceChart } from '../components/PairPriceChart.tsx';
import { Percent } from '../components/Percent.tsx';
import { PositionsTable } from '../components/PositionsTable.tsx';
import { RiskMetrics } from '../components/RiskMetrics.tsx';
import { RunCycleButton } from '../components/RunCycleButton.tsx';
import { SignalsTable } from '../components/SignalsTable.tsx';
import { Time } from '../components/Time.tsx';
import { TradeHistory } from '../components/TradeHistory.tsx';
import { TradingStateCell } from '../components/TradingStateCell.tsx';
import { formatPct, formatUsd } from '../lib/format.ts';
import { canEdit, useSession } from '../lib/session.ts';
import { usePoll } from '../lib/use-poll.ts';

export interface AccountPageProps {
  slug: string;
}

/** One account: its numbers, curves, positions, orders, trades and risk, refreshed while open. */
export function AccountPage({ slug }: AccountPageProps) {
  const session = useSession();
  const account = { path: { account: slug } };
  const summary = usePoll(() => unwrap(api.GET('/accounts/{account}/summary', { params: account })), [slug], 5000);
  const equity = usePoll(() => unwrap(api.GET('/accounts/{account}/reports/equity', { params: account })), [slug], 15_000);
  const risk = usePoll(() => unwrap(api.GET('/accounts/{account}/reports/risk', { params: account })), [slug], 15_000);
  const trades = usePoll(() => unwrap(api.GET('/accounts/{account}/trades', { params: { ...account, query: { limit: 500 } } })), [slug], 10_000);
  const settings = usePoll(() => unwrap(api.GET('/accounts/{account}/settings', { params: account })), [slug], 60_000);
  const tradingPairs = settings.data?.trading.value.pairs;
  const settingsPairs = Array.isArray(tradingPairs) ? (tradingPairs as string[]) : undefined;
  const name = session.accounts.find((a) => a.slug === slug)?.name ?? slug;
  const admin = canEdit(session);
  const refresh = (): void => summary.reload();

  return (
    <>
      <AccountHeader slug={slug} name={name} page="Overview" mode={summary.data?.mode} state={summary.data?.tradingState.state} />
      <DataState {...summary} what="the account" onRetry={summary.reload}>
        {(s) => {
          const pairs = [...new Set([...s.positions.map((p) => p.pair), ...(trades.data?.trades ?? []).map((t) => t.pair)])].sort();
          return (
            <>
              <HaltBanner account={slug} state={s.tradingState} canReset={admin} onChanged={refresh} />
              <div className="grid">
                <Card title="Balance">
                  <dl className="metrics">
                    <div><dt>Equity</dt><dd>{formatUsd(s.equityUsd)}</dd></div>
                    <div><dt>Cash</dt><dd>{formatUsd(s.cashUsd)}</dd></div>
                    <div><dt>Today's PnL</dt><dd><Percent value={s.today.pnlPct} signed /> <span className="muted">({formatUsd(s.today.pnlUsd)})</span></dd></div>
                    <div><dt>Hedge actual / target</dt><dd>{formatPct(s.hedge.actual)} / {formatPct(s.hedge.target)}</dd></div>
                  </dl>
                  <h3>Holdings</h3>
                  <HoldingsList holdings={s.holdings} />
                </Card>
                <Card title="Trading">
                  <p><TradingStateCell state={s.tradingState} /></p>
                  <p>Last cycle: {s.lastCycle ? <><Time iso={s.lastCycle.finishedAt} /> ({s.lastCycle.outcome}, bar <Time iso={s.lastCycle.barTime} />)</> : 'none yet'}</p>
                  <p>Next cycle: <Time iso={s.nextCycleAt} /></p>
                  <div className="row">
                    <RunCycleButton disabled={!admin} onQueued={refresh} />
                    <KillSwitch account={slug} accountName={name} disabled={!admin || s.tradingState.state === 'HALTED'} onChanged={refresh} />
                  </div>
                </Card>
              </div>
              <Card title="Regime and signals">
                <SignalsTable pairs={settingsPairs ?? pairs} />
              </Card>
              <Card title="Risk">
                <DataState {...risk} what="risk metrics">{(r) => <RiskMetrics risk={r} drawdown={s.drawdown} />}</DataState>
              </Card>
              <DataState {...equity} what="the equity curve" isEmpty={(e) => e.points.length === 0} empty={<p className="muted">No equity snapshots yet: the curve starts after the first cycle.</p>}>
                {(e) => <EquityCurve points={e.points} />}
              </DataState>
              <Card title="Open positions"><PositionsTable positions={s.positions} /></Card>
              <Card title="Open orders"><OrdersTable orders={s.openOrders} /></Card>
              {pairs.map((p) => (
                <PairPriceChart key={p} pair={p} trades={trades.data?.trades ?? []} position={s.positions.find((x) => x.pair === p)} />
              ))}
              <TradeHistory account={slug} pairs={pairs} />
            </>
          );
        }}
      </DataState>
    </>
  );
}
