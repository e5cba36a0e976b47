import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { hedgeSettingsSchema } from '../hedge/settings.ts';
import type { MarketSpec } from '../exchange/types.ts';
import type { Candle } from '../market/candle.ts';
import { csvRecord } from '../reports/csv.ts';
import { equitySvg, type EquitySeries } from '../reports/equity-svg.ts';
import { drawdownChart, reportHtml, tradesOnPriceChart } from '../reports/report-html.ts';
import { riskSettingsSchema } from '../risk/settings.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';
import type { BacktestAccount, BacktestResult } from './backtest.ts';
import { buyAndHoldCurve } from './backtest-report.ts';

/** `--accounts FILE`: the accounts to simulate, each with optional settings (validated like the API's). */
export const backtestAccountsSchema = z
  .array(
    z
      .object({
        id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/),
        initialUsd: z.number().positive().optional(),
        trading: z.record(z.string(), z.unknown()).default({}),
        risk: z.record(z.string(), z.unknown()).default({}),
        hedge: z.record(z.string(), z.unknown()).default({}),
      })
      .strict(),
  )
  .min(1)
  .max(100)
  .refine((a) => new Set(a.map((x) => x.id)).size === a.length, 'account ids must be unique');

export function backtestAccounts(raw: unknown, pairs: string[], initialUsd: number): BacktestAccount[] {
  return backtestAccountsSchema.parse(raw).map((a) => ({
    id: a.id,
    initialUsd: a.initialUsd ?? initialUsd,
    settings: {
      trading: tradingSettingsSchema.parse({ pairs, ...a.trading }),
      risk: riskSettingsSchema.parse(a.risk),
      hedge: hedgeSettingsSchema.parse(a.hedge),
    },
  }));
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * report.json, trades.csv (time,account,pair,side,qty,price,fee_usd,realized_pnl_usd,client_id,cause,reason),
 * equity.csv (every account at every bar: the data, at full resolution, for other tools), and the
 * pictures: equity.svg (equity vs buy-and-hold) and report.html (that, the drawdowns and every
 * pair's trades on its price). `candles` and `markets` are the backtest's input, for buy-and-hold
 * and the price charts.
 */
export function writeBacktest(dir: string, r: BacktestResult, candles: Record<string, readonly Candle[]>, markets: readonly MarketSpec[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(r.report, null, 2) + '\n');
  const trades = [csvRecord(['time', 'account', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'cause', 'reason'])];
  for (const t of r.trades) trades.push(csvRecord([iso(t.time), t.account, t.pair, t.side, t.qty, t.price, t.feeUsd, t.realizedPnlUsd, t.clientId, t.cause, t.reason]));
  writeFileSync(join(dir, 'trades.csv'), trades.join(''));
  const equity = [csvRecord(['time', 'account', 'equity_usd', 'cash_usd', 'hedge_ratio'])];
  for (const e of r.equity) equity.push(csvRecord([iso(e.ts), e.account, e.equityUsd, e.cashUsd, e.hedgeRatio]));
  writeFileSync(join(dir, 'equity.csv'), equity.join(''));
  const { svg, html } = backtestPictures(r, candles, markets);
  writeFileSync(join(dir, 'equity.svg'), svg);
  writeFileSync(join(dir, 'report.html'), html);
}

const day = (t: string | number): string => new Date(t).toISOString().slice(0, 10);
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** equity.svg and report.html of a backtest (pure). */
export function backtestPictures(r: BacktestResult, candles: Record<string, readonly Candle[]>, markets: readonly MarketSpec[]): { svg: string; html: string } {
  const rep = r.report;
  const byTs = new Map<number, number>();
  for (const e of r.equity) byTs.set(e.ts, (byTs.get(e.ts) ?? 0) + e.equityUsd);
  const ts = [...byTs.keys()].sort((a, b) => a - b);
  const hold = buyAndHoldCurve(rep.pairs, candles, ts, rep.initial_equity_usd, markets);
  const series: EquitySeries[] = [
    { label: `strategy ${pct(rep.total_return)}`, points: ts.map((t) => ({ ts: t, equity: byTs.get(t)! })) },
    { label: `buy-and-hold ${pct(rep.buy_and_hold.total_return)}`, points: ts.map((t, i) => ({ ts: t, equity: hold[i]! })) },
  ];
  const span = `${day(rep.start)} → ${day(rep.end)}`;
  const svg = equitySvg({ title: `Equity after costs vs buy-and-hold, ${rep.pairs.join(', ')}, ${span}`, series });
  const html = reportHtml({
    title: `Backtest ${rep.pairs.join(', ')}`,
    subtitle: `${span} UTC, simulated fills after fees and slippage (report.json holds every figure)`,
    figures: [
      ['equity', `${rep.initial_equity_usd} → ${rep.final_equity_usd} USD (${pct(rep.total_return)})`],
      ['buy-and-hold', `${pct(rep.buy_and_hold.total_return)}, max drawdown ${pct(rep.buy_and_hold.max_drawdown)}`],
      ['max drawdown', pct(rep.max_drawdown)],
      ['Sharpe / Sortino', `${rep.sharpe} / ${rep.sortino}`],
      ['fills', `${rep.trades} (${Object.entries(rep.trades_by_cause).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${n}`).join(', ') || 'none'})`],
      ['fees', `${rep.fees_usd} USD`],
      ['exposure', pct(rep.exposure)],
    ],
    sections: [
      { heading: 'Equity vs buy-and-hold', svgs: [svg] },
      { heading: 'Drawdown', text: 'How far each curve is below its own running peak.', svgs: [drawdownChart(`Drawdown, ${span}`, series)] },
      {
        heading: 'Trades on price',
        text: 'Closes of each pair; buys are green ▲, sells red ▼ (hover for time, quantity, price and reason).',
        svgs: rep.pairs.map((p) =>
          tradesOnPriceChart(`${p}: ${r.trades.filter((t) => t.pair === p).length} fills`, candles[p] ?? [], r.trades.filter((t) => t.pair === p), Date.parse(rep.start), Date.parse(rep.end)),
        ),
      },
    ],
  });
  return { svg, html };
}

/**
 * `--fees MAKER,TAKER` in basis points (Kraken quotes its schedule in percent: 0.16 % maker, 0.26 %
 * taker = `--fees 16,26`). Basis points rather than fractions or percent, so that 0.26 can never be
 * read as 26 %. Each is a number in [0, 100] bps, maker not above taker (Kraken's schedule never has
 * it so: a reversed pair is a mistake). Returns fractions; throws a RangeError with the reason.
 */
export function parseFeesBps(text: string): { maker: number; taker: number } {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!m) throw new RangeError(`expected MAKER,TAKER in basis points, e.g. 16,26 (Kraken's base tier), got "${text}"`);
  const [maker, taker] = [Number(m[1]), Number(m[2])];
  for (const [name, v] of [['maker', maker], ['taker', taker]] as const)
    if (!(v >= 0 && v <= 100)) throw new RangeError(`${name} fee ${v} bps is outside 0–100 bps (1 %)`);
  if (maker > taker) throw new RangeError(`maker fee ${maker} bps is above the taker fee ${taker} bps: MAKER,TAKER (swapped?)`);
  return { maker: maker / 10_000, taker: taker / 10_000 };
}
