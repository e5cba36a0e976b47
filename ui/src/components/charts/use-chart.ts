import type * as LightweightCharts from 'lightweight-charts';
import { useEffect, useRef, type RefObject } from 'react';
import { useTheme } from '../../lib/use-theme.ts';
import { chartOptions } from './chart-options.ts';

/**
 * A TradingView lightweight-charts chart in the returned div, the library loaded on first use (not in
 * the initial bundle): `draw` adds the series to a new chart, fitted to its content; the chart is
 * drawn again when `deps` or the theme change, and removed with the component.
 */
export function useChart(draw: (lc: typeof LightweightCharts, chart: LightweightCharts.IChartApi) => void, deps: readonly unknown[]): RefObject<HTMLDivElement | null> {
  const el = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  useEffect(() => {
    let disposed = false;
    let remove: (() => void) | undefined;
    void import('lightweight-charts').then((lc) => {
      if (disposed || !el.current) return;
      const chart = lc.createChart(el.current, chartOptions());
      draw(lc, chart);
      chart.timeScale().fitContent();
      remove = () => chart.remove();
    });
    return () => {
      disposed = true;
      remove?.();
    };
  }, [...deps, theme]); // `draw` is a new function each render; what it draws from is in `deps`
  return el;
}
