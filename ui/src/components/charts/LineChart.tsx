import { useEffect, useRef } from 'react';
import { useTheme, token } from '../../lib/use-theme.ts';

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
  const el = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  useEffect(() => {
    let disposed = false;
    let remove: (() => void) | undefined;
    void Promise.all([import('lightweight-charts'), import('./chart-options.ts')]).then(([lc, { chartOptions, toTime }]) => {
      if (disposed || !el.current) return;
      const chart = lc.createChart(el.current, chartOptions());
      for (const s of series) {
        const line = chart.addSeries(lc.LineSeries, {
          color: token(s.colorToken),
          lineWidth: 2,
          title: s.name,
          ...(s.percent ? { priceFormat: { type: 'percent' as const } } : {}),
        });
        // One point per second at most (the chart's time unit), in order.
        const byTime = new Map<number, number>();
        for (const p of s.points) byTime.set(toTime(p.time), s.percent ? p.value * 100 : p.value);
        line.setData([...byTime].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time: time as never, value })));
      }
      chart.timeScale().fitContent();
      remove = () => chart.remove();
    });
    return () => {
      disposed = true;
      remove?.();
    };
  }, [series, theme]);
  return <div ref={el} className="chart" role="img" aria-label={`${label} (chart; the same data is in the table that follows)`} />;
}
