/**
 * report.html of `aether backtest` and `aether research`: one self-contained page (inline CSS and
 * SVG, no script, no external asset) that opens from a file anywhere, offline. Pure: the same input
 * gives the same bytes.
 */
import { equitySvg, escapeXml, type ChartMarker, type EquitySeries } from './equity-svg.ts';

export interface ReportSection {
  heading: string;
  text?: string;
  /** Inline SVG charts (equitySvg's output). */
  svgs?: readonly string[];
  /** Preformatted text, e.g. a table. */
  pre?: string;
}

export interface ReportPage {
  title: string;
  subtitle?: string;
  /** Key figures, label → value, shown as a table at the top. */
  figures?: ReadonlyArray<readonly [string, string]>;
  sections: readonly ReportSection[];
}

const STYLE = [
  'body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}',
  'h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}',
  '.sub{color:#666;margin-top:0}table{border-collapse:collapse}td{padding:.2em 1.2em .2em 0}td:first-child{color:#555;white-space:nowrap;vertical-align:top}',
  'svg{max-width:100%;height:auto;display:block;margin:.5em 0}pre{font-size:12px;overflow-x:auto;background:#f7f7f7;padding:.8em}',
].join('');

export function reportHtml(page: ReportPage): string {
  const out = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(page.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escapeXml(page.title)}</h1>`,
  ];
  if (page.subtitle) out.push(`<p class="sub">${escapeXml(page.subtitle)}</p>`);
  if (page.figures?.length) out.push('<table>', ...page.figures.map(([k, v]) => `<tr><td>${escapeXml(k)}</td><td>${escapeXml(v)}</td></tr>`), '</table>');
  for (const s of page.sections) {
    out.push(`<h2>${escapeXml(s.heading)}</h2>`);
    if (s.text) out.push(`<p>${escapeXml(s.text)}</p>`);
    for (const svg of s.svgs ?? []) out.push(svg.trim());
    if (s.pre) out.push(`<pre>${escapeXml(s.pre)}</pre>`);
  }
  out.push('</body></html>', '');
  return out.join('\n');
}

/** Each series as its drawdown from the running peak, in percent (0 at a new high, negative below). */
export function drawdownSeries(series: EquitySeries): EquitySeries {
  let peak = -Infinity;
  return {
    label: series.label,
    points: series.points.map((p) => {
      peak = Math.max(peak, p.equity);
      return { ts: p.ts, equity: peak > 0 ? Number(((p.equity / peak - 1) * 100).toFixed(4)) : 0 };
    }),
  };
}

export function drawdownChart(title: string, series: readonly EquitySeries[]): string {
  return equitySvg({ title, series: series.map(drawdownSeries), unit: '%', height: 300 });
}

export interface PricedFill {
  time: number;
  side: 'buy' | 'sell';
  price: number;
  qty: number;
  reason?: string;
}

/** A pair's closes (at each bar's close time) with its fills on them: buys ▲, sells ▼. */
export function tradesOnPriceChart(title: string, candles: ReadonlyArray<{ openTime: number; interval: number; close: number }>, fills: readonly PricedFill[], from?: number, to?: number): string {
  const lo = from ?? -Infinity;
  const hi = to ?? Infinity;
  const points = candles.map((c) => ({ ts: c.openTime + c.interval * 1000, equity: c.close })).filter((p) => p.ts >= lo && p.ts <= hi);
  const markers: ChartMarker[] = fills.map((f) => ({
    ts: f.time,
    value: f.price,
    side: f.side,
    label: `${new Date(f.time).toISOString().slice(0, 16).replace('T', ' ')} ${f.side} ${f.qty} @ ${f.price}${f.reason ? ` (${f.reason})` : ''}`,
  }));
  return equitySvg({ title, series: [{ label: 'close', points }], markers, height: 360 });
}
