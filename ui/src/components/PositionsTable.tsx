import type { Schemas } from '../api/client.ts';
import { formatAmount, formatUsd } from '../lib/format.ts';
import { DataTable } from './DataTable.tsx';
import { Time } from './Time.tsx';

export interface PositionsTableProps {
  positions: Schemas['AccountSummary']['positions'];
}

/** Open positions with their resting stop and take-profit. */
export function PositionsTable({ positions }: PositionsTableProps) {
  return (
    <DataTable
      caption="Open positions"
      empty="No open positions."
      rows={positions}
      rowKey={(p) => p.pair}
      columns={[
        { header: 'Pair', cell: (p) => p.pair },
        { header: 'Quantity', numeric: true, cell: (p) => formatAmount(p.qty) },
        { header: 'Average price', numeric: true, cell: (p) => formatAmount(p.avgPrice) },
        { header: 'Mark', numeric: true, cell: (p) => formatAmount(p.markPrice) },
        { header: 'Value', numeric: true, cell: (p) => formatUsd(p.valueUsd) },
        { header: 'Unrealized PnL', numeric: true, cell: (p) => <span className={(p.unrealizedPnlUsd ?? 0) >= 0 ? 'positive' : 'negative'}>{formatUsd(p.unrealizedPnlUsd)}</span> },
        { header: 'Stop-loss', numeric: true, cell: (p) => formatAmount(p.stopPrice) },
        { header: 'Take-profit', numeric: true, cell: (p) => formatAmount(p.takeProfitPrice) },
        { header: 'Opened', cell: (p) => <Time iso={p.openedAt} /> },
      ]}
    />
  );
}
