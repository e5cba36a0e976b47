import type { DeepPartial, ChartOptions, UTCTimestamp } from 'lightweight-charts';
import { token } from '../../lib/use-theme.ts';

/** The chart's colours from the design tokens (so both themes keep their contrast). */
export function chartOptions(): DeepPartial<ChartOptions> {
  return {
    autoSize: true,
    layout: { background: { color: token('--color-surface') }, textColor: token('--color-text'), attributionLogo: false },
    grid: { vertLines: { color: token('--color-surface-alt') }, horzLines: { color: token('--color-surface-alt') } },
    rightPriceScale: { borderColor: token('--color-border') },
    timeScale: { borderColor: token('--color-border'), timeVisible: true },
  };
}

/** Seconds since the epoch, as lightweight-charts counts time. */
export const toTime = (iso: string): UTCTimestamp => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

/** One point per time (the chart's unit is a second; the last one wins), oldest first, as the chart needs them. */
export function byTime<T extends { time: UTCTimestamp }>(points: readonly T[]): T[] {
  const at = new Map<number, T>();
  for (const p of points) at.set(p.time, p);
  return [...at.values()].sort((a, b) => a.time - b.time);
}
