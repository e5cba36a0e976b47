import { useMemo } from 'react';
import type { Schemas } from '../api/client.ts';
import { formatPct } from '../lib/format.ts';
import { ChartWithTable } from './ChartWithTable.tsx';
import { DataTable } from './DataTable.tsx';
import { LineChart } from './charts/LineChart.tsx';
import { Time } from './Time.tsx';

export interface HedgeHistoryProps {
  history: Schemas['HedgeReport']['history'];
}

/** The hedge's target and actual USD share over time (H-3). */
export function HedgeHistory({ history }: HedgeHistoryProps) {
  const series = useMemo(
    () => [
      { name: 'Target', colorToken: '--color-chart-line-2', percent: true, points: history.map((h) => ({ time: h.time, value: h.target })) },
      { name: 'Actual', colorToken: '--color-chart-line', percent: true, points: history.map((h) => ({ time: h.time, value: h.actual })) },
    ],
    [history],
  );
  return (
    <ChartWithTable
      title="Hedge target and actual"
      chart={<LineChart label="Hedge target and actual USD share over time" series={series} />}
      table={
        <DataTable caption="Hedge history" rows={history} rowKey={(h, i) => `${h.time}-${i}`} columns={[
          { header: 'Time', cell: (h) => <Time iso={h.time} /> },
          { header: 'Mode', cell: (h) => h.mode },
          { header: 'Target', numeric: true, cell: (h) => formatPct(h.target) },
          { header: 'Actual', numeric: true, cell: (h) => formatPct(h.actual) },
          { header: 'Reason', cell: (h) => h.reason },
        ]} />
      }
    />
  );
}
