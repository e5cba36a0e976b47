import { describe, expect, it } from 'vitest';
import { equitySvg, escapeXml } from '../../../lib/reports/equity-svg.ts';

/**
 * A strict well-formedness check for the subset of XML the chart uses (no DOCTYPE, CDATA or
 * processing instructions): every tag closes in order, attributes are quoted once each, text and
 * attribute values hold no raw '<' and every '&' starts a known entity. Returns the elements seen, each with its text content.
 */
function parseXml(xml: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const elements: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const stack: number[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/y;
  const checkText = (s: string, where: string): void => {
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '<') throw new Error(`raw < in ${where}`);
      if (s[i] === '&') {
        entity.lastIndex = i;
        if (!entity.test(s)) throw new Error(`bad entity in ${where}: ${s.slice(i, i + 10)}`);
      }
    }
  };
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = lt < 0 ? xml.slice(i) : xml.slice(i, lt);
    checkText(text, 'text');
    for (const k of stack) elements[k]!.text += text; // textContent: an element's text includes its children's
    if (!stack.length && text.trim()) throw new Error(`text outside the root: ${text.trim().slice(0, 20)}`);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error('unterminated tag');
    const tag = xml.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open === undefined || elements[open]!.name !== name) throw new Error(`</${name}> closes ${open === undefined ? 'nothing' : elements[open]!.name}`);
    } else {
      const selfClosing = tag.endsWith('/');
      const body = selfClosing ? tag.slice(0, -1) : tag;
      const m = /^([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*$/.exec(body);
      if (!m) throw new Error(`malformed tag <${tag}>`);
      if (!stack.length && elements.length) throw new Error('a second root element');
      const attrs: Record<string, string> = {};
      for (const a of m[2]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        if (a[1]! in attrs) throw new Error(`attribute ${a[1]} twice`);
        checkText(a[2]!, `attribute ${a[1]}`);
        attrs[a[1]!] = a[2]!;
      }
      elements.push({ name: m[1]!, attrs, text: '' });
      if (!selfClosing) stack.push(elements.length - 1);
    }
    i = gt + 1;
  }
  if (stack.length) throw new Error(`unclosed <${elements[stack.at(-1)!]!.name}>`);
  return elements;
}

const H = 3_600_000;
const T0 = Date.UTC(2021, 0, 1);
const curve = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ ts: T0 + i * H, equity: f(i) }));
const chart = {
  title: 'Equity — all pairs <BTC/USD & "ETH/USD">',
  series: [
    { label: 'baseline', points: curve(5000, (i) => 10_000 * (1 + 0.3 * Math.sin(i / 300))) },
    { label: 'ml <walk-forward>', points: curve(5000, (i) => 10_000 * Math.exp(i / 5000)) },
    { label: 'buy & hold', points: curve(5000, (i) => 10_000 * (1 + i / 1000)) },
    { label: "cash 'USD'", points: curve(5000, () => 10_000) },
  ],
};

describe('equitySvg', () => {
  it('is well-formed XML with one path per series, labels and title escaped', () => {
    const svg = equitySvg(chart);
    const els = parseXml(svg);
    expect(els[0]!.name).toBe('svg');
    expect(els[0]!.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    const paths = els.filter((e) => e.name === 'path');
    expect(paths).toHaveLength(4);
    expect(paths.map((p) => p.text)).toEqual(['baseline', 'ml &lt;walk-forward&gt;', 'buy &amp; hold', 'cash &apos;USD&apos;']);
    expect(svg).toContain('<title>Equity — all pairs &lt;BTC/USD &amp; &quot;ETH/USD&quot;&gt;</title>');
    expect(new Set(paths.map((p) => p.attrs.stroke)).size).toBe(4);
    for (const p of paths) expect(p.attrs.d).toMatch(/^M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+$/);
  });

  it('is deterministic and thins 5,000 points to at most four per pixel column, keeping the extremes', () => {
    const a = equitySvg(chart);
    expect(equitySvg(structuredClone(chart))).toBe(a);
    const d = parseXml(a).filter((e) => e.name === 'path')[0]!.attrs.d!;
    const pts = d.split(' ').map((s) => s.slice(1).split(',').map(Number) as [number, number]);
    expect(pts.length).toBeLessThan(4 * 960);
    expect(pts.length).toBeGreaterThan(500);
    // The baseline's lowest equity (13,000 × … the sine's trough) is drawn: the path reaches the lowest y of the curve.
    const ys = pts.map((p) => p[1]);
    const sine = chart.series[0]!.points.map((p) => p.equity);
    const lowest = Math.min(...sine);
    const highest = Math.max(...sine);
    expect(Math.max(...ys) - Math.min(...ys)).toBeGreaterThan(0);
    // y is monotone in equity, so the thinned path's extreme y's belong to the curve's extremes.
    const full = equitySvg({ ...chart, series: [{ label: 'x', points: [chart.series[0]!.points.find((p) => p.equity === lowest)!, chart.series[0]!.points.find((p) => p.equity === highest)!] }, ...chart.series.slice(1)] });
    const extremes = parseXml(full).filter((e) => e.name === 'path')[0]!.attrs.d!.split(' ').map((s) => Number(s.slice(1).split(',')[1]));
    expect(Math.max(...ys)).toBeCloseTo(Math.max(...extremes), 1);
    expect(Math.min(...ys)).toBeCloseTo(Math.min(...extremes), 1);
  });

  it('draws positive equity on a log axis and labels the time axis', () => {
    const svg = equitySvg(chart);
    expect(svg).toContain('USD (log)');
    const texts = parseXml(svg).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toContain('10k');
    expect(texts.some((t) => /^2021-0[2-7]$/.test(t))).toBe(true);
    const linear = equitySvg({ title: 't', series: [{ label: 'a', points: [{ ts: T0, equity: -5 }, { ts: T0 + H, equity: 5 }] }] });
    expect(linear).not.toContain('(log)');
    expect(parseXml(linear).filter((e) => e.name === 'path')).toHaveLength(1);
  });

  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('the checker itself rejects malformed XML', () => {
    expect(() => parseXml('<svg><path></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/entity/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/twice/);
    expect(() => parseXml('<svg><title>a<b</title></svg>')).toThrow();
  });
});
