import type { Schemas } from '../api/client.ts';
import { formatAmount } from '../lib/format.ts';
import { DataTable } from './DataTable.tsx';
import { Time } from './Time.tsx';

export interface OrdersTableProps {
  orders: Schemas['AccountSummary']['openOrders'];
}

/** Orders resting on the venue (simulated or Kraken). */
export function OrdersTable({ orders }: OrdersTableProps) {
  return (
    <DataTable
      caption="Open orders"
      empty="No open orders."
      rows={orders}
      rowKey={(o) => o.id}
      columns={[
        { header: 'Pair', cell: (o) => o.pair },
        { header: 'Side', cell: (o) => o.side.toUpperCase() },
        { header: 'Type', cell: (o) => o.type },
        { header: 'Intent', cell: (o) => o.intent },
        { header: 'Amount', numeric: true, cell: (o) => formatAmount(o.amount) },
        { header: 'Price', numeric: true, cell: (o) => formatAmount(o.price) },
        { header: 'Status', cell: (o) => o.status },
        { header: 'Decided', cell: (o) => <Time iso={o.decidedAt} /> },
      ]}
    />
  );
}
