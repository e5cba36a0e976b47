import { describe, expect, it } from 'vitest';
import { progress } from '../../bin/progress.ts';
import { drawdownSeries, reportHtml } from '../../lib/reports/report-html.ts';

const stream = (isTTY: boolean) => {
  const writes: string[] = [];
  return { writes, s: { isTTY, columns: 200, write: (t: string) => (writes.push(t), true) } };
};

describe('bin/progress.ts', () => {
  it('on a terminal redraws one line in place, keeps notes above it, and ends the line once', () => {
    const { writes, s } = stream(true);
    const bar = progress('backtest', { stream: s });
    bar.update(0.5, 1, '2022-01-01');
    bar.update(0.5, 1, '2022-01-01'); // unchanged: nothing written
    bar.note('ML walk-forward: 3 models fitted');
    bar.update(1, 1, '2022-12-31');
    bar.end();
    expect(writes[0]).toBe('\rbacktest [############------------]  50% 2022-01-01');
    expect(writes.filter((w) => w.includes('50%'))).toHaveLength(2); // drawn once, redrawn once after the note
    expect(writes).toContain('ML walk-forward: 3 models fitted\n');
    expect(writes.at(-2)).toMatch(/^\rbacktest \[#{24}\] 100% 2022-12-31/);
    expect(writes.at(-1)).toBe('\n');
    expect(writes.filter((w) => w.includes('\n') && !w.startsWith('ML'))).toEqual(['\n']);
  });

  it('elsewhere writes whole lines, one per 10 % step, whole units counted as done/total', () => {
    const { writes, s } = stream(false);
    const bar = progress('backtest', { stream: s });
    for (let i = 1; i <= 1000; i++) bar.update(i / 1000, 1, `bar ${i}`);
    bar.end();
    expect(writes).toHaveLength(11); // 0 %, 10 %, … 100 % (the first update opens the 0 % step)
    expect(writes.every((w) => w.endsWith('\n') && !w.includes('\r'))).toBe(true);
    expect(writes.at(-1)).toBe('backtest [########################] 100% bar 1000\n');
    const { writes: train, s: s2 } = stream(false);
    const t = progress('train', { stream: s2, step: 0.01 });
    for (let i = 0; i <= 6; i++) t.update(i, 6, 'stage');
    expect(train.at(-1)).toBe('train [########################] 6/6 stage\n');
    expect(train).toHaveLength(7);
  });
});

describe('report.html pieces', () => {
  it('drawdown is the distance below the running peak, in percent', () => {
    const dd = drawdownSeries({ label: 'x', points: [100, 120, 90, 130, 117].map((equity, ts) => ({ ts, equity })) });
    expect(dd.points.map((p) => p.equity)).toEqual([0, 0, -25, 0, -10]);
  });

  it('is one self-contained page, every text escaped', () => {
    const html = reportHtml({ title: 'A <b> & "c"', figures: [['k<', 'v>']], sections: [{ heading: 'h', text: '<script>x</script>', pre: 'a < b', svgs: ['<svg xmlns="http://www.w3.org/2000/svg"></svg>'] }] });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<b>/);
    expect(html).toContain('<title>A &lt;b&gt; &amp; &quot;c&quot;</title>');
    expect(html).toContain('<pre>a &lt; b</pre>');
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"></svg>');
  });
});
