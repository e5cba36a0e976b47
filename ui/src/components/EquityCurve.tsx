import { useMemo } from 'react';
import type { Schemas } from '../api/client.ts';
import { formatPct, formatUsd } from '../lib/format.ts';
import { ChartWithTable } from './ChartWithTable.tsx';
import { DataTable } from './DataTable.tsx';
import { LineChart } from './charts/LineChart.tsx';
import { Time } from './Time.tsx';

export interface EquityCurveProps {
  points: ReadonlyArray<Schemas['EquityPoint']>;
}

/** Equity and return since start (RP-5), with the points as a table. */
export function EquityCurve({ points }: EquityCurveProps) {
  const equity = useMemo(() => [{ name: 'Equity (USD)', colorToken: '--color-chart-line', points: points.map((p) => ({ time: p.time, value: p.equityUsd })) }], [points]);
  const returns = useMemo(() => [{ name: 'Return since start', colorToken: '--color-chart-line-2', percent: true, points: points.map((p) => ({ time: p.time, value: p.returnSinceStart })) }], [points]);
  return (
    <ChartWithTable
      title="Equity and return"
      chart={
        <>
          <LineChart label="Equity in US dollars over time" series={equity} />
          <LineChart label="Return since start over time" series={returns} />
        </>
      }
      table={
        <DataTable
          caption="Equity snapshots, oldest first"
          rows={points}
          rowKey={(p) => p.time}
          columns={[
            { header: 'Time', cell: (p) => <Time iso={p.time} /> },
            { header: 'Equity', numeric: true, cell: (p) => formatUsd(p.equityUsd) },
            { header: 'Cash', numeric: true, cell: (p) => formatUsd(p.cashUsd) },
            { header: 'Positions', numeric: true, cell: (p) => formatUsd(p.positionsUsd) },
            { header: 'Hedge ratio', numeric: true, cell: (p) => formatPct(p.hedgeRatio) },
            { header: 'Return since start', numeric: true, cell: (p) => formatPct(p.returnSinceStart, true) },
          ]}
        />
      }
    />
  );
}
