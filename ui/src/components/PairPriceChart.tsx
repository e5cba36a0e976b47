import { useMemo } from 'react';
import type { Schemas } from '../api/client.ts';
import { formatAmount } from '../lib/format.ts';
import { ChartWithTable } from './ChartWithTable.tsx';
import { DataTable } from './DataTable.tsx';
import { PriceChart, type PriceLevel, type PriceMarker } from './charts/PriceChart.tsx';
import { Time } from './Time.tsx';

export interface PairPriceChartProps {
  pair: string;
  trades: ReadonlyArray<Schemas['Trade']>;
  position?: Schemas['AccountSummary']['positions'][number];
}

/**
 * A pair's fills over time with entry/exit markers, and the open position's entry, stop-loss and
 * take-profit as price lines. (The API serves no candles yet, so the line joins the fill prices.)
 */
export function PairPriceChart({ pair, trades, position }: PairPriceChartProps) {
  const fills = useMemo(() => trades.filter((t) => t.pair === pair).slice().reverse(), [trades, pair]);
  const line = useMemo(() => fills.map((t) => ({ time: t.time, value: Number(t.price) })), [fills]);
  const markers = useMemo<PriceMarker[]>(() => fills.map((t) => ({ time: t.time, side: t.side, text: t.cause === 'entry' ? 'entry' : `exit (${t.cause})` })), [fills]);
  const levels = useMemo<PriceLevel[]>(() => {
    const out: PriceLevel[] = [];
    if (position?.avgPrice) out.push({ price: position.avgPrice, title: 'entry', kind: 'entry' });
    if (position?.stopPrice) out.push({ price: position.stopPrice, title: 'stop', kind: 'stop' });
    if (position?.takeProfitPrice) out.push({ price: position.takeProfitPrice, title: 'take-profit', kind: 'take-profit' });
    return out;
  }, [position]);
  return (
    <ChartWithTable
      title={`${pair}: fills, stop and take-profit`}
      chart={<PriceChart label={`${pair} fill prices with entries, exits and the open stop and take-profit`} line={line} markers={markers} levels={levels} />}
      table={
        <>
          {levels.length > 0 && <p>Open position: {levels.map((l) => `${l.title} ${formatAmount(l.price)}`).join(', ')}.</p>}
          <DataTable caption={`${pair} fills, oldest first`} rows={fills} rowKey={(t, i) => `${t.clientId}-${i}`} empty="No fills yet." columns={[
            { header: 'Time', cell: (t) => <Time iso={t.time} /> },
            { header: 'Side', cell: (t) => t.side.toUpperCase() },
            { header: 'Cause', cell: (t) => t.cause },
            { header: 'Price', numeric: true, cell: (t) => formatAmount(t.price) },
          ]} />
        </>
      }
    />
  );
}
