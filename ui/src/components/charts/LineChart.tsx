import { token } from '../../lib/use-theme.ts';
import { byTime, toTime } from './chart-options.ts';
import { useChart } from './use-chart.ts';

export interface LineSeries {
  name: string;
  /** A colour token, e.g. --color-chart-line. */
  colorToken: string;
  points: ReadonlyArray<{ time: string; value: number }>;
  /** Values are fractions: the axis shows percentages. */
  percent?: boolean;
}

export interface LineChartProps {
  /** What the chart shows; its accessible name (the data is also in a table beside it). */
  label: string;
  series: readonly LineSeries[];
}

/** Line series over time with TradingView lightweight-charts, loaded on first use (not in the initial bundle). */
export function LineChart({ label, series }: LineChartProps) {
  const el = useChart(
    (lc, chart) => {
      for (const s of series) {
        const line = chart.addSeries(lc.LineSeries, {
          color: token(s.colorToken),
          lineWidth: 2,
          title: s.name,
          ...(s.percent ? { priceFormat: { type: 'percent' as const } } : {}),
        });
        line.setData(byTime(s.points.map((p) => ({ time: toTime(p.time), value: s.percent ? p.value * 100 : p.value }))));
      }
    },
    [series],
  );
  return <div ref={el} className="chart" role="img" aria-label={`${label} (chart; the same data is in the table that follows)`} />;
}
