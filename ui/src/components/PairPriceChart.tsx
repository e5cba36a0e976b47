import { useMemo } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { formatAmount } from '../lib/format.ts';
import { usePoll } from '../lib/use-poll.ts';
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
 * A pair's hourly candles (the fill prices while none are stored) with entry/exit markers, and the
 * open position's entry, stop-loss and take-profit as price lines.
 */
export function PairPriceChart({ pair, trades, position }: PairPriceChartProps) {
  const market = usePoll(() => unwrap(api.GET('/markets/candles', { params: { query: { pair, interval: '3600', limit: 500 } } })), [pair], 60_000);
  const candles = market.data?.candles.length ? market.data.candles : undefined;
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
      title={`${pair}: price, trades, stop and take-profit`}
      chart={<PriceChart label={`${pair} ${candles ? 'hourly candles' : 'fill prices'} with entries, exits and the open stop and take-profit`} candles={candles} line={line} markers={markers} levels={levels} />}
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
