import type { AutoscaleInfo } from 'lightweight-charts';
import { token } from '../../lib/use-theme.ts';
import { byTime, toTime } from './chart-options.ts';
import { useChart } from './use-chart.ts';

export interface PriceMarker {
  time: string;
  side: 'buy' | 'sell';
  text: string;
}

export interface PriceLevel {
  price: number;
  title: string;
  kind: 'stop' | 'take-profit' | 'entry';
}

export interface PriceChartProps {
  label: string;
  /** OHLC candles; when absent, `line` is drawn instead. */
  candles?: ReadonlyArray<{ time: string; open: number; high: number; low: number; close: number }>;
  line?: ReadonlyArray<{ time: string; value: number }>;
  markers: readonly PriceMarker[];
  levels: readonly PriceLevel[];
}

/** A pair's price with entry/exit markers and the open stop and take-profit as price lines; lightweight-charts loaded on first use. */
export function PriceChart({ label, candles, line, markers, levels }: PriceChartProps) {
  const el = useChart(
    (lc, chart) => {
      const up = token('--color-chart-up');
      const down = token('--color-chart-down');
      // The price axis also spans the stop and take-profit, so their lines are always in view.
      const prices = levels.map((l) => l.price);
      const autoscaleInfoProvider = (original: () => AutoscaleInfo | null): AutoscaleInfo | null => {
        const r = original();
        if (!r?.priceRange || prices.length === 0) return r;
        return { ...r, priceRange: { minValue: Math.min(r.priceRange.minValue, ...prices), maxValue: Math.max(r.priceRange.maxValue, ...prices) } };
      };
      const series = candles
        ? chart.addSeries(lc.CandlestickSeries, { upColor: up, downColor: down, wickUpColor: up, wickDownColor: down, borderVisible: false, autoscaleInfoProvider })
        : chart.addSeries(lc.LineSeries, { color: token('--color-chart-line'), lineWidth: 2, autoscaleInfoProvider });
      if (candles) series.setData(candles.map((c) => ({ time: toTime(c.time), open: c.open, high: c.high, low: c.low, close: c.close })) as never);
      else series.setData(byTime((line ?? []).map((p) => ({ time: toTime(p.time), value: p.value }))) as never);
      lc.createSeriesMarkers(
        series,
        [...markers]
          .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
          .map((m) => ({ time: toTime(m.time), position: m.side === 'buy' ? 'belowBar' : 'aboveBar', color: m.side === 'buy' ? up : down, shape: m.side === 'buy' ? 'arrowUp' : 'arrowDown', text: m.text })),
      );
      for (const l of levels)
        series.createPriceLine({ price: l.price, title: l.title, color: l.kind === 'stop' ? down : l.kind === 'take-profit' ? up : token('--color-chart-line-2'), lineWidth: 1, lineStyle: lc.LineStyle.Dashed, axisLabelVisible: true });
    },
    [candles, line, markers, levels],
  );
  return <div ref={el} className="chart" role="img" aria-label={`${label} (chart; the same data is in the table that follows)`} />;
}
