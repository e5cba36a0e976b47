import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCandlesCsv } from '../../lib/market/csv.ts';
import type { BacktestReport } from '../../lib/cycle/backtest-report.ts';
import type { ResearchRow } from '../../lib/reports/research.ts';
import { usdMarket } from '../../lib/exchange/usd-markets.ts';

/**
 * `aether research` as a user runs it, on a slice of the repository's candles (Nov 2021 → mid-Feb
 * 2022: two calendar years, ML refitted every 240 bars). The rows must agree with each backtest's own
 * report, the years must chain to the whole span, buy-and-hold must be what the candles say, and a
 * usage error must exit 2 and write nothing. No strategy's numbers are asserted.
 */
const dir = mkdtempSync(join(tmpdir(), 'aether-research-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FROM = '2021-11-01T00:00:00Z';
const TO = '2022-02-15T00:00:00Z';
const file = (base: string) => `data/ohlcv/kraken_${base}USD_1h.csv`;
const data = (base: string) => ['--data', `${base}/USD=${file(base)}`];
const SLICE = ['--from', FROM, '--to', TO];
const YEAR_MS = 365 * 86_400_000;

function aether(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/aether.js', 'research', ...args], { encoding: 'utf8', timeout: 400_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

type Row = ResearchRow; // research.json's rows
interface Research {
  rows: Row[];
  reports: Array<{ scope: string; strategy: string; report: BacktestReport }>;
  ml: { retrains: number } | null;
}

describe('aether research', () => {
  const out = join(dir, 'full');
  let research: Research;

  it('writes the table, research.md, research.json and one equity chart per scope', () => {
    const r = aether([...data('BTC'), ...data('ETH'), ...SLICE, '--retrain-every', '240', '--train-bars', '1000', '--workers', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^scope +period +strategy +days +return +CAGR +Sharpe +Sortino +max DD +turnover ×\/yr +fees USD +trades +exposure$/m);
    expect(r.stdout).toMatch(/ML retrained every 240 bars/);
    expect(readdirSync(out).sort()).toEqual(['equity-all-pairs.svg', 'equity-btc-usd.svg', 'equity-eth-usd.svg', 'report.html', 'research.json', 'research.md']);
    // report.html: self-contained; per scope the equity chart (the same SVG) and the drawdowns; each pair's trades on its price.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|url\(|@import/i);
    for (const f of ['equity-all-pairs.svg', 'equity-btc-usd.svg', 'equity-eth-usd.svg']) expect(html).toContain(readFileSync(join(out, f), 'utf8').trim());
    expect(html.match(/<h2>[^<]*: equity and drawdown<\/h2>/g)).toHaveLength(3);
    expect(html).toMatch(/<h2>BTC\/USD: baseline&apos;s trades on price<\/h2>/);
    expect(html).toMatch(/<polygon class="(buy|sell)"/);

    research = JSON.parse(readFileSync(join(out, 'research.json'), 'utf8')) as Research;
    const { rows } = research;
    const scopes = ['all pairs', 'BTC/USD', 'ETH/USD'];
    const strategies = ['baseline', 'ml', 'buy-and-hold', 'cash'];
    expect(rows.map((x) => `${x.scope}/${x.period}/${x.strategy}`)).toEqual(scopes.flatMap((s) => ['whole', '2021', '2022'].flatMap((p) => strategies.map((g) => `${s}/${p}/${g}`))));
    expect(research.ml!.retrains).toBeGreaterThan(0);
    expect(rows.filter((x) => x.strategy === 'ml' && x.period === 'whole').some((x) => x.trades > 0)).toBe(true); // the model did trade

    // Every row of the table is in research.md and on the terminal.
    const md = readFileSync(join(out, 'research.md'), 'utf8');
    for (const x of rows) {
      expect(md).toContain(`| ${x.scope} | ${x.period} | ${x.strategy} |`);
      expect(r.stdout).toMatch(new RegExp(`^${x.scope.replace('/', '\\/')} +${x.period} +${x.strategy} `, 'm'));
    }
    expect(md).toMatch(/segment of that run's equity curve/);
    expect(md).toMatch(/every 240 bars/);
    expect(md).toContain('![Equity after costs — all pairs (BTC/USD, ETH/USD)');

    for (const f of ['equity-all-pairs.svg', 'equity-btc-usd.svg', 'equity-eth-usd.svg']) {
      const svg = readFileSync(join(out, f), 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<path /g)).toHaveLength(4);
    }
  }, 420_000);

  it('whole-span rows reproduce each backtest report, and the years chain to the whole span', () => {
    const { rows, reports } = research;
    expect(reports.map((x) => `${x.scope}/${x.strategy}`).sort()).toEqual(['BTC/USD/baseline', 'BTC/USD/ml', 'ETH/USD/baseline', 'ETH/USD/ml', 'all pairs/baseline', 'all pairs/ml']);
    for (const { scope, strategy, report } of reports) {
      const whole = rows.find((x) => x.scope === scope && x.strategy === strategy && x.period === 'whole')!;
      expect(report.pairs).toEqual(scope === 'all pairs' ? ['BTC/USD', 'ETH/USD'] : [scope]);
      expect(whole.total_return).toBeCloseTo(report.total_return, 6);
      expect(whole.cagr).toBeCloseTo(report.cagr, 6);
      expect(whole.sharpe).toBeCloseTo(report.sharpe, 6);
      expect(whole.sortino).toBeCloseTo(report.sortino, 6);
      expect(whole.max_drawdown).toBeCloseTo(report.max_drawdown, 6);
      expect(whole.fees_usd).toBeCloseTo(report.fees_usd, 2);
      expect(whole.trades).toBe(report.trades);
      expect(whole.exposure).toBeCloseTo(report.exposure, 6);
      const years = (Date.parse(report.end) - Date.parse(report.start)) / YEAR_MS;
      expect(whole.turnover_per_year * years).toBeCloseTo(report.turnover, 4);
      expect(whole.end).toBe(report.end);
      expect(report.adaptation.schedule).toMatch(/^\S+ \S+ \S+ \S+ \S+$/); // live's nightly adaptation, as aether backtest runs by default
      // Buy-and-hold, computed here over the same bar times, agrees with the report's own.
      const bh = rows.find((x) => x.scope === scope && x.strategy === 'buy-and-hold' && x.period === 'whole')!;
      expect(bh.total_return).toBeCloseTo(report.buy_and_hold.total_return, 6);
      expect(bh.max_drawdown).toBeCloseTo(report.buy_and_hold.max_drawdown, 6);
      expect(bh.sharpe).toBeCloseTo(report.buy_and_hold.sharpe, 4);
    }
    for (const scope of ['all pairs', 'BTC/USD', 'ETH/USD'])
      for (const strategy of ['baseline', 'ml', 'buy-and-hold', 'cash']) {
        const [whole, y21, y22] = ['whole', '2021', '2022'].map((p) => rows.find((x) => x.scope === scope && x.strategy === strategy && x.period === p)!);
        expect((1 + y21!.total_return) * (1 + y22!.total_return)).toBeCloseTo(1 + whole!.total_return, 5);
        expect(y21!.trades + y22!.trades).toBe(whole!.trades);
        expect(y21!.fees_usd + y22!.fees_usd).toBeCloseTo(whole!.fees_usd, 1);
        expect(y22!.start).toBe('2022-01-01T00:00:00.000Z');
        expect(Math.max(y21!.max_drawdown, y22!.max_drawdown)).toBeLessThanOrEqual(whole!.max_drawdown + 1e-9);
        if (strategy === 'cash') expect([whole, y21, y22].every((x) => x!.total_return === 0 && x!.trades === 0 && x!.exposure === 0)).toBe(true);
      }
  });

  it('buy-and-hold is the candles\' own return after one taker fee', () => {
    const row = research.rows.find((x) => x.scope === 'BTC/USD' && x.strategy === 'buy-and-hold' && x.period === 'whole')!;
    const btc = readCandlesCsv(file('BTC'), 'BTC/USD');
    const closeBy = (t: number) => btc.filter((c) => c.openTime + 3_600_000 <= t).at(-1)!.close;
    const expected = (closeBy(Date.parse(row.end)) / closeBy(Date.parse(row.start))) * (1 - usdMarket('BTC/USD').takerFee) - 1;
    expect(row.total_return).toBeCloseTo(expected, 6);
    expect(row.trades).toBe(1);
    expect(row.fees_usd).toBeCloseTo(10_000 * usdMarket('BTC/USD').takerFee, 2);
  });

  it('gives the same rows in this thread as on worker threads, and --fees 0,0 makes every fee zero, --no-adapt holds the settings fixed', () => {
    const inThread = join(dir, 'inline');
    const r = aether([...data('BTC'), ...data('ETH'), ...SLICE, '--strategies', 'baseline,buy-and-hold,cash', '--workers', '0', '--out', inThread]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/on no worker thread/);
    const rows = (JSON.parse(readFileSync(join(inThread, 'research.json'), 'utf8')) as Research).rows;
    expect(rows).toEqual(research.rows.filter((x) => x.strategy !== 'ml'));

    const free = join(dir, 'free');
    const f = aether([...data('ETH'), ...SLICE, '--strategies', 'baseline,buy-and-hold', '--fees', '0,0', '--no-adapt', '--out', free]);
    expect(f.code, f.stderr).toBe(0);
    const freeResearch = JSON.parse(readFileSync(join(free, 'research.json'), 'utf8')) as Research;
    const freeRows = freeResearch.rows;
    expect(freeResearch.reports.map((x) => [x.report.adaptation.schedule, x.report.fees.source])).toEqual([[null, '--fees']]);
    expect(freeRows.map((x) => x.scope)).toEqual(Array(6).fill('ETH/USD')); // one pair: no all-pairs scope
    expect(freeRows.every((x) => x.fees_usd === 0)).toBe(true);
    expect(readFileSync(join(free, 'research.md'), 'utf8')).toMatch(/--fees: maker 0 bps, taker 0 bps/);
    expect(readFileSync(join(free, 'research.md'), 'utf8')).toMatch(/off \(--no-adapt\)/);
  }, 300_000);

  it.each([
    ['no --out', [...data('BTC')]],
    ['a malformed --data', ['--data', 'BTCUSD', '--out']],
    ['a pair Kraken USD does not list', ['--data', `DOGE/EUR=${file('BTC')}`, '--out']],
    ['a missing file', ['--data', 'BTC/USD=data/ohlcv/nope.csv', '--out']],
    ['bad --fees', [...data('BTC'), '--fees', '0.26', '--out']],
    ['--fees maker above taker', [...data('BTC'), '--fees', '26,16', '--out']],
    ['an unknown strategy', [...data('BTC'), '--strategies', 'baseline,magic', '--out']],
    ['negative --workers', [...data('BTC'), '--workers', '-1', '--out']],
    ['ml without BTC/USD', [...data('ETH'), '--out']],
    ['--from after --to', [...data('BTC'), '--from', TO, '--to', FROM, '--out']],
    ['a window shorter than the warm-up', [...data('BTC'), '--to', '2021-01-10T00:00:00Z', '--out']],
    ['an unknown flag', [...data('BTC'), '--bogus', '--out']],
    ['a window after the data', [...data('BTC'), '--from', '2030-01-01', '--out']],
  ])('%s: exit 2 with the usage, nothing written', (_name, args) => {
    const target = join(dir, `bad-${_name.replace(/\W+/g, '-')}`);
    const argv = args.at(-1) === '--out' ? [...args, target] : args;
    const r = aether(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/usage: aether research --out DIR/);
    expect(r.stdout).toBe('');
    expect(existsSync(target)).toBe(false);
  }, 120_000);
});
