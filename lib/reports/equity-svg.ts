/**
 * An SVG line chart of equity curves (pure, deterministic: the same input gives the same bytes).
 * One <path> per series; axes and grid are <line>s, so a reader (or a test) can count the curves.
 * The y axis is logarithmic when every value is positive: equal heights are equal percentage moves,
 * which is how equity curves of very different returns stay comparable on one chart.
 */
export interface EquitySeries {
  label: string;
  points: ReadonlyArray<{ ts: number; equity: number }>;
}

/** A fill drawn on the chart: a buy as an upward triangle, a sell as a downward one, at its price. */
export interface ChartMarker {
  ts: number;
  value: number;
  side: 'buy' | 'sell';
  label: string;
}

export interface EquityChart {
  title: string;
  series: readonly EquitySeries[];
  width?: number;
  height?: number;
  /** The y axis's unit (default USD). */
  unit?: string;
  markers?: readonly ChartMarker[];
}

const MARKER_COLOR = { buy: '#2ca02c', sell: '#d62728' } as const;

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#7f7f7f', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const f1 = (x: number): string => (Math.round(x * 10) / 10).toFixed(1);

/** 1-2-5 steps for a log axis; every decade's 1..9 when the range is narrow. */
function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  for (const mults of [[1], [1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]]) {
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) ticks.push(Number(v.toPrecision(12)));
    }
    if (ticks.length >= 3) return ticks;
  }
  return [min, max];
}

function linearTicks(min: number, max: number): number[] {
  if (max <= min) return [min];
  const raw = (max - min) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** 12,500 → "12.5k"; 2,000,000 → "2M". */
function money(v: number): string {
  const a = Math.abs(v);
  const [d, s] = a >= 1e6 ? [1e6, 'M'] : a >= 1e3 ? [1e3, 'k'] : [1, ''];
  return `${Number((v / d).toPrecision(3))}${s}`;
}

/** Month steps that give at most 8 ticks; labels YYYY when on whole years, YYYY-MM otherwise. */
function timeTicks(t0: number, t1: number): { t: number; label: string }[] {
  const months = (t1 - t0) / (30.44 * 86_400_000);
  const step = [1, 2, 3, 6, 12, 24, 60].find((s) => months / s <= 8) ?? 120;
  const d = new Date(t0);
  let y = d.getUTCFullYear();
  let m = Math.ceil((d.getUTCMonth() + (d.getUTCDate() > 1 || d.getUTCHours() > 0 ? 1 : 0)) / step) * step;
  const out: { t: number; label: string }[] = [];
  for (;;) {
    y += Math.floor(m / 12);
    m %= 12;
    const t = Date.UTC(y, m, 1);
    if (t > t1) break;
    if (t >= t0) out.push({ t, label: step % 12 === 0 ? String(y) : `${y}-${String(m + 1).padStart(2, '0')}` });
    m += step;
  }
  return out;
}

/**
 * Points reduced to what a plot `px` pixels wide can show: per pixel column the first, lowest,
 * highest and last point, in time order — drawdowns and peaks survive, 17,000 hourly points do not
 * become 17,000 path segments.
 */
function thin(xy: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  let k = 0;
  while (k < xy.length) {
    const col = Math.round(xy[k]![0]);
    let end = k;
    while (end < xy.length && Math.round(xy[end]![0]) === col) end++;
    let lo = k;
    let hi = k;
    for (let i = k; i < end; i++) {
      if (xy[i]![1] > xy[lo]![1]) lo = i; // screen y grows downwards: lower equity, larger y
      if (xy[i]![1] < xy[hi]![1]) hi = i;
    }
    for (const i of [...new Set([k, lo, hi, end - 1])].sort((a, b) => a - b)) out.push(xy[i]!);
    k = end;
  }
  return out;
}

export function equitySvg(chart: EquityChart): string {
  const W = chart.width ?? 960;
  const H = chart.height ?? 480;
  const m = { left: 64, right: 16, top: 40, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = chart.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.equity) && Number.isFinite(p.ts));
  const t0 = Math.min(...all.map((p) => p.ts));
  const t1 = Math.max(...all.map((p) => p.ts));
  let lo = Math.min(...all.map((p) => p.equity));
  let hi = Math.max(...all.map((p) => p.equity));
  const log = all.length > 0 && lo > 0;
  if (!all.length) [lo, hi] = [0, 1];
  if (hi === lo) [lo, hi] = log ? [lo / 1.1, hi * 1.1] : [lo - 1, hi + 1];
  if (log) [lo, hi] = [lo / 1.02, hi * 1.02];
  const fy = (v: number): number => (log ? Math.log(v) : v);
  const x = (t: number): number => m.left + (t1 > t0 ? ((t - t0) / (t1 - t0)) * pw : pw / 2);
  const y = (v: number): number => m.top + ph - ((fy(v) - fy(lo)) / (fy(hi) - fy(lo))) * ph;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(chart.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.left}" y="24" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  ];
  if (all.length) {
    for (const v of log ? logTicks(lo, hi) : linearTicks(lo, hi)) {
      const yy = f1(y(v));
      parts.push(`<line x1="${m.left}" y1="${yy}" x2="${W - m.right}" y2="${yy}" stroke="#e0e0e0"/>`);
      parts.push(`<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${escapeXml(money(v))}</text>`);
    }
    for (const { t, label } of timeTicks(t0, t1)) {
      const xx = f1(x(t));
      parts.push(`<line x1="${xx}" y1="${m.top}" x2="${xx}" y2="${m.top + ph}" stroke="#e0e0e0"/>`);
      parts.push(`<text x="${xx}" y="${m.top + ph + 16}" text-anchor="middle">${escapeXml(label)}</text>`);
    }
  }
  parts.push(`<line x1="${m.left}" y1="${m.top + ph}" x2="${W - m.right}" y2="${m.top + ph}" stroke="#333333"/>`);
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + ph}" stroke="#333333"/>`);
  parts.push(`<text x="${m.left - 6}" y="${m.top - 8}" text-anchor="end">${escapeXml(chart.unit ?? 'USD')}${log ? ' (log)' : ''}</text>`);

  chart.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const xy = s.points.filter((p) => Number.isFinite(p.equity) && (!log || p.equity > 0)).map((p) => [x(p.ts), y(p.equity)] as const);
    const d = thin(xy).map(([px, py], k) => `${k ? 'L' : 'M'}${f1(px)},${f1(py)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5" stroke-linejoin="round"><title>${escapeXml(s.label)}</title></path>`);
    const ly = m.top + ph + 36;
    const lx = m.left + i * Math.floor(pw / Math.max(1, chart.series.length));
    parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${escapeXml(s.label)}</text>`);
  });
  for (const k of chart.markers ?? []) {
    if (!Number.isFinite(k.value) || (log && k.value <= 0)) continue;
    const [mx, my] = [x(k.ts), y(k.value)];
    // The triangle's tip touches the fill price: a buy points up from below, a sell down from above.
    const base = k.side === 'buy' ? my + 11 : my - 11;
    const tip = `${f1(mx)},${f1(my)} ${f1(mx - 6)},${f1(base)} ${f1(mx + 6)},${f1(base)}`;
    parts.push(`<polygon class="${k.side}" points="${tip}" fill="${MARKER_COLOR[k.side]}" stroke="#ffffff" stroke-width="0.8"><title>${escapeXml(k.label)}</title></polygon>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
