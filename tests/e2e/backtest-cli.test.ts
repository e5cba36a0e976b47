import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `aether backtest` as a user runs it (issue 3 acceptance): on the repository's three-pair Kraken 1h
 * slice it writes report.json, trades.csv and equity.csv, and the final equity recomputed here from
 * trades.csv alone — cash flows, fees, holdings at the last close — matches the report to the cent.
 */
const dir = mkdtempSync(join(tmpdir(), 'aether-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// From before SOL/USD listed (2021-06-17) to the end of the BTC and ETH files: the strategy trades
// enough for the ledger check to mean something, and buy-and-hold must wait for SOL's listing.
const FROM = '2021-01-01T00:00:00Z';
const TO = '2023-01-07T00:00:00Z';
const SOL_LISTED = Date.parse('2021-06-17T16:00:00Z'); // its first candle's open
const INITIAL = 10_000;
const data = (base: string) => `${base}/USD=data/ohlcv/kraken_${base}USD_1h.csv`;

function aether(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/aether.js', 'backtest', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; records end with CRLF (or LF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length) rows.push([...row, field]);
  return rows;
}

/** Closes of a repository candle CSV by open time. */
function closes(path: string): Array<{ openTime: number; close: number }> {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  expect(header).toEqual(['time', 'open', 'high', 'low', 'close', 'volume']);
  return rows.map((r) => ({ openTime: Date.parse(r[0]!), close: Number(r[4]) }));
}

/** Equity at `end` from the trade ledger: initial cash ± every fill's cash flow and fee, holdings at the last close by then. */
function equityFromTrades(trades: Record<string, string>[], files: Record<string, string>, end: number): number {
  let cash = INITIAL;
  const held: Record<string, number> = {};
  for (const t of trades) {
    const qty = Number(t.qty);
    const notional = qty * Number(t.price);
    const fee = Number(t.fee_usd);
    if (t.side === 'buy') {
      cash -= notional + fee;
      held[t.pair!] = (held[t.pair!] ?? 0) + qty;
    } else {
      expect(t.side).toBe('sell');
      cash += notional - fee;
      held[t.pair!] = (held[t.pair!] ?? 0) - qty;
    }
  }
  let equity = cash;
  for (const [pair, qty] of Object.entries(held)) {
    expect(qty, `${pair} never sold more than bought`).toBeGreaterThan(-1e-9);
    if (Math.abs(qty) < 1e-12) continue;
    const last = closes(files[pair]!).filter((c) => c.openTime + 3_600_000 <= end).at(-1)!;
    equity += qty * last.close;
  }
  return equity;
}

/** Not a terminal: stderr holds plain progress lines and nothing else (no log line, no warning). */
const progressOnly = (stderr: string): boolean => stderr !== '' && stderr.trimEnd().split('\n').every((l) => /^backtest \[[#-]+\] +\d+% \d{4}-\d{2}-\d{2}$/.test(l));

const TRADE_CAUSES = ['entry', 'stop', 'take-profit', 'signal', 'hedge', 'halt'];

/** trades.csv as records, each row as wide as the header. */
function readTrades(out: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(readFileSync(join(out, 'trades.csv'), 'utf8'));
  expect(header).toEqual(['time', 'account', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'cause', 'reason']);
  return rows.map((row) => {
    expect(row).toHaveLength(header!.length);
    return Object.fromEntries(header!.map((h, i) => [h, row[i]!]));
  });
}

const REPORT_KEYS = [
  'start', 'end', 'pairs', 'initial_equity_usd', 'final_equity_usd', 'total_return', 'cagr', 'sharpe', 'sortino',
  'max_drawdown', 'fees_usd', 'trades', 'win_rate', 'exposure', 'turnover', 'trades_by_cause', 'fees', 'adaptation', 'buy_and_hold',
];

describe('aether backtest', () => {
  it('writes the three files on the three-pair slice, and trades.csv reproduces the final equity to the cent', () => {
    const out = join(dir, 'three');
    const r = aether(['--data', data('BTC'), '--data', data('ETH'), '--data', data('SOL'), '--from', FROM, '--to', TO, '--out', out]);
    expect(progressOnly(r.stderr)).toBe(true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wrote .*report\.json, trades\.csv, equity\.csv/);

    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    for (const k of REPORT_KEYS) expect(report, k).toHaveProperty(k);
    expect(Object.keys(report.buy_and_hold).sort()).toEqual(['max_drawdown', 'sharpe', 'total_return']);
    expect(report.pairs).toEqual(['BTC/USD', 'ETH/USD', 'SOL/USD']);
    expect(report.initial_equity_usd).toBe(INITIAL);
    expect(Date.parse(report.start)).toBeGreaterThanOrEqual(Date.parse(FROM));
    expect(Date.parse(report.end)).toBeLessThanOrEqual(Date.parse(TO) + 3_600_000);

    const trades = readTrades(out);
    expect(trades.length).toBe(report.trades);
    expect(trades.length).toBeGreaterThan(20); // the slice really trades, so the check below means something
    expect(trades.some((t) => t.reason!.includes(','))).toBe(true); // quoted fields went through the parser
    for (const t of trades) expect(Date.parse(t.time!)).toBeLessThanOrEqual(Date.parse(report.end));
    const fees = trades.reduce((s, t) => s + Number(t.fee_usd), 0);
    expect(Math.abs(fees - report.fees_usd)).toBeLessThanOrEqual(0.005 + 1e-9);
    // Every fill says what it was: buys are entries, sells exits by cause (or hedge sales); report counts them.
    for (const t of trades) {
      expect(TRADE_CAUSES).toContain(t.cause);
      expect(t.side === 'buy', `${t.time} ${t.side} ${t.cause}`).toBe(t.cause === 'entry');
    }
    expect(new Set(trades.map((t) => t.cause)).size).toBeGreaterThan(2);
    for (const c of TRADE_CAUSES) expect(report.trades_by_cause[c], c).toBe(trades.filter((t) => t.cause === c).length);
    // Kraken's base tier by default, charged on every fill (maker on resting limits, taker otherwise).
    expect(report.fees).toEqual({ maker: 0.0016, taker: 0.0026, source: 'kraken-base-tier' });
    for (const t of trades) expect([0.0016, 0.0026].some((rate) => Math.abs(Number(t.fee_usd) - Number(t.qty) * Number(t.price) * rate) < 1e-6)).toBe(true);
    // The nightly adaptation follows the live train job's schedule in stack.yml.
    expect(report.adaptation.schedule).toBe('30 2 * * *');
    expect(report.adaptation.changes).toBe(report.accounts.backtest.adaptations.length);
    expect(r.stdout).toMatch(/adaptation: nightly at "30 2 \* \* \*" UTC/);

    const files = Object.fromEntries(['BTC', 'ETH', 'SOL'].map((b) => [`${b}/USD`, `data/ohlcv/kraken_${b}USD_1h.csv`]));
    const equity = equityFromTrades(trades, files, Date.parse(report.end));
    expect(Math.abs(equity - report.final_equity_usd)).toBeLessThanOrEqual(0.01);

    // Buy-and-hold: a third each; BTC and ETH at the first decision's close, SOL (not listed yet) kept
    // in cash until its listing bar closes, then bought at that close; one taker fee each.
    expect(Date.parse(report.start)).toBeLessThan(SOL_LISTED);
    const hold = (pair: string, buyAt: number) => {
      const cs = closes(files[pair]!);
      const bought = cs.filter((c) => c.openTime + 3_600_000 <= buyAt).at(-1) ?? cs.find((c) => c.openTime >= buyAt)!;
      const last = cs.filter((c) => c.openTime + 3_600_000 <= Date.parse(report.end)).at(-1)!;
      return ((INITIAL / 3) * (1 - 0.0026) * last.close) / bought.close;
    };
    const bh = hold('BTC/USD', Date.parse(report.start)) + hold('ETH/USD', Date.parse(report.start)) + hold('SOL/USD', SOL_LISTED + 3_600_000);
    expect(report.buy_and_hold.total_return).toBeCloseTo(bh / INITIAL - 1, 5);

    // The pictures: self-contained (no script, no external asset), equity vs buy-and-hold, drawdown, every fill on its pair's price.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|<img|\ssrc=|\shref=|url\(|@import/i);
    expect(html.match(/<svg /g)).toHaveLength(2 + 3); // equity, drawdown, one price chart per pair
    expect(html).toContain(`buy-and-hold ${(report.buy_and_hold.total_return * 100).toFixed(2)} %`);
    expect((html.match(/<polygon class="(buy|sell)"/g) ?? []).length).toBe(report.trades);
    expect((html.match(/<polygon class="buy"/g) ?? []).length).toBe(trades.filter((t) => t.side === 'buy').length);
    const svg = readFileSync(join(out, 'equity.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.match(/<path /g)).toHaveLength(2); // the strategy and buy-and-hold
    expect(html).toContain(svg.trim());

    const [eHeader, ...eRows] = parseCsv(readFileSync(join(out, 'equity.csv'), 'utf8'));
    expect(eHeader).toEqual(['time', 'account', 'equity_usd', 'cash_usd', 'hedge_ratio']);
    expect(eRows.at(-1)![0]).toBe(report.end);
    expect(Math.abs(Number(eRows.at(-1)![2]) - report.final_equity_usd)).toBeLessThanOrEqual(0.005 + 1e-9);
  }, 120_000);

  it('--fees MAKER,TAKER (bps) is the schedule charged, written to report.json; --no-adapt keeps the settings fixed; the ledger still adds up to the cent', () => {
    const out = join(dir, 'fees');
    const r = aether(['--data', data('BTC'), '--data', data('ETH'), '--from', '2022-01-01T00:00:00Z', '--to', '2022-09-01T00:00:00Z', '--fees', '10,20', '--no-adapt', '--out', out]);
    expect(progressOnly(r.stderr)).toBe(true);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/fees: maker 10 bps, taker 20 bps \(--fees\); adaptation: off/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.fees).toEqual({ maker: 0.001, taker: 0.002, source: '--fees' });
    expect(report.adaptation).toEqual({ schedule: null, changes: 0 });
    const trades = readTrades(out);
    expect(trades.length).toBeGreaterThan(0);
    for (const t of trades) expect([0.001, 0.002].some((rate) => Math.abs(Number(t.fee_usd) - Number(t.qty) * Number(t.price) * rate) < 1e-6), `${t.time} ${t.fee_usd}`).toBe(true);
    const files = { 'BTC/USD': 'data/ohlcv/kraken_BTCUSD_1h.csv', 'ETH/USD': 'data/ohlcv/kraken_ETHUSD_1h.csv' };
    expect(Math.abs(equityFromTrades(trades, files, Date.parse(report.end)) - report.final_equity_usd)).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it('takes a CSV of another Kraken USD pair', () => {
    // ADA/USD shaped like ETH's real path, scaled to ADA's price level.
    const eth = readFileSync('data/ohlcv/kraken_ETHUSD_1h.csv', 'utf8').trim().split('\n');
    const ada = [eth[0], ...eth.slice(1).map((l) => {
      const [time, ...v] = l.split(',');
      return [time, ...v.slice(0, 4).map((x) => (Number(x) / 3000).toFixed(6)), v[4]].join(',');
    })];
    const file = join(dir, 'ada.csv');
    writeFileSync(file, ada.join('\n') + '\n');
    const out = join(dir, 'ada');
    const r = aether(['--data', `ADA/USD=${file}`, '--data', data('BTC'), '--from', '2022-04-01T00:00:00Z', '--to', '2022-05-01T00:00:00Z', '--out', out]);
    expect(progressOnly(r.stderr)).toBe(true);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.pairs).toEqual(['ADA/USD', 'BTC/USD']);
    const [header, ...rows] = parseCsv(readFileSync(join(out, 'trades.csv'), 'utf8'));
    const trades = rows.map((row) => Object.fromEntries(header!.map((h, i) => [h, row[i]!])));
    expect(trades.some((t) => t.pair === 'ADA/USD')).toBe(true);
    const equity = equityFromTrades(trades, { 'ADA/USD': file, 'BTC/USD': 'data/ohlcv/kraken_BTCUSD_1h.csv' }, Date.parse(report.end));
    expect(Math.abs(equity - report.final_equity_usd)).toBeLessThanOrEqual(0.01);
  }, 120_000);

  it.each([
    ['no --out', ['--data', data('BTC')], /--out DIR is required/],
    ['a non-USD pair', ['--data', 'ETH/BTC=data/ohlcv/kraken_ETHUSD_1h.csv', '--out', 'x'], /USD pair/],
    ['an unknown USD pair', ['--data', 'NOPE/USD=data/ohlcv/kraken_ETHUSD_1h.csv', '--out', 'x'], /not a Kraken spot USD pair/],
    ['an unreadable file', ['--data', 'BTC/USD=data/ohlcv/missing.csv', '--out', 'x'], /missing\.csv/],
    ['a bad --from', ['--data', data('BTC'), '--from', 'yesterday', '--out', 'x'], /--from: not an ISO time/],
    ['no --data', ['--out', 'x'], /--data/],
    ['--fees with one number', ['--data', data('BTC'), '--fees', '26', '--out', 'x'], /--fees: expected MAKER,TAKER in basis points/],
    ['--fees in percent words', ['--data', data('BTC'), '--fees', '0.16%,0.26%', '--out', 'x'], /--fees: expected MAKER,TAKER/],
    ['a negative fee', ['--data', data('BTC'), '--fees=-1,26', '--out', 'x'], /--fees: maker fee -1 bps is outside 0–100 bps/],
    ['an absurd fee', ['--data', data('BTC'), '--fees', '16,2600', '--out', 'x'], /--fees: taker fee 2600 bps is outside 0–100 bps/],
    ['maker above taker', ['--data', data('BTC'), '--fees', '26,16', '--out', 'x'], /--fees: maker fee 26 bps is above the taker fee 16 bps/],
    ['an inverted window', ['--data', data('BTC'), '--from', '2023-01-01', '--to', '2022-01-01', '--out', 'x'], /--from 2023-01-01 is not before --to 2022-01-01: the window is empty/],
    ['a window after the data', ['--data', data('BTC'), '--from', '2030-01-01', '--out', 'x'], /no candles in the window 2030-01-01 00:00 → the end UTC: the data covers BTC\/USD 2021-01-01 00:00 → 2023-01-07 09:00/],
    ['a window before the data', ['--data', data('BTC'), '--data', data('ETH'), '--to', '2020-06-01', '--out', 'x'], /no candles in the window the start → 2020-06-01 00:00 UTC: the data covers BTC\/USD .*, ETH\/USD /],
    ['an unknown flag', ['--data', data('BTC'), '--form', '2022-01-01', '--out', 'x'], /unknown flag --form \(did you mean --from\?\)/],
  ])('rejects %s with exit 2 and a message, writing nothing', (_name, args, message) => {
    const never = join(dir, 'never');
    const r = aether(args.map((a) => (a === 'x' ? never : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(never)).toBe(false);
  }, 120_000); // each case is a Node process loading TypeScript: slow on a loaded machine
});
