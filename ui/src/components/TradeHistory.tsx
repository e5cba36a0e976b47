import { useState } from 'react';
import { API_BASE, api, unwrap, type Schemas } from '../api/client.ts';
import { formatAmount, formatUsd } from '../lib/format.ts';
import { usePoll } from '../lib/use-poll.ts';
import { DataState } from './DataState.tsx';
import { DataTable, type Column } from './DataTable.tsx';
import { SelectField } from './SelectField.tsx';
import { TextField } from './TextField.tsx';
import { Time } from './Time.tsx';
import { TradeWhy } from './TradeWhy.tsx';

export interface TradeHistoryProps {
  account: string;
  pairs: readonly string[];
}

type Trade = Schemas['Trade'];

const columns: ReadonlyArray<Column<Trade>> = [
  { header: 'Time', cell: (t) => <Time iso={t.time} /> },
  { header: 'Pair', cell: (t) => t.pair },
  { header: 'Side', cell: (t) => t.side.toUpperCase() },
  { header: 'Quantity', numeric: true, cell: (t) => formatAmount(t.qty) },
  { header: 'Price', numeric: true, cell: (t) => formatAmount(t.price) },
  { header: 'Fee', numeric: true, cell: (t) => formatUsd(t.feeUsd) },
  { header: 'Realized PnL', numeric: true, cell: (t) => { const v = Number(t.realizedPnlUsd); return <span className={v > 0 ? 'positive' : v < 0 ? 'negative' : undefined}>{formatUsd(v)}</span>; } },
  { header: 'Why', cell: (t) => <TradeWhy trade={t} /> },
];

/** Fills, newest first, filtered by pair, side and days; the same filters download as CSV. */
export function TradeHistory({ account, pairs }: TradeHistoryProps) {
  const [pair, setPair] = useState('');
  const [side, setSide] = useState<'' | 'buy' | 'sell'>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const query = { ...(pair ? { pair } : {}), ...(side ? { side } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
  const trades = usePoll(() => unwrap(api.GET('/accounts/{account}/trades', { params: { path: { account }, query: { ...query, limit: 200 } } })), [account, pair, side, from, to], 10_000);
  const csv = `${API_BASE}/accounts/${encodeURIComponent(account)}/trades.csv?${new URLSearchParams(query).toString()}`;
  return (
    <section className="card" aria-labelledby="trades-title">
      <h2 id="trades-title">Trade history</h2>
      <form className="row" aria-label="Filter trades" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Pair" value={pair} onChange={(e) => setPair(e.target.value)} options={[{ value: '', label: 'All pairs' }, ...pairs.map((p) => ({ value: p, label: p }))]} />
        <SelectField label="Side" value={side} onChange={(e) => setSide(e.target.value as '' | 'buy' | 'sell')} options={[{ value: '', label: 'Buys and sells' }, { value: 'buy', label: 'Buys' }, { value: 'sell', label: 'Sells' }]} />
        <TextField label="From (day)" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <TextField label="To (day, not included)" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <a className="btn btn-secondary" href={csv} download>Download CSV</a>
      </form>
      <DataState {...trades} what="trades" isEmpty={(d) => d.trades.length === 0} empty={<p className="muted">No trades match.</p>} onRetry={trades.reload}>
        {(d) => <DataTable caption="Trades, newest first" columns={columns} rows={d.trades} rowKey={(t, i) => `${t.clientId}-${t.time}-${i}`} />}
      </DataState>
    </section>
  );
}
