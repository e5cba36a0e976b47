import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { hedgeSettingsSchema } from '../hedge/settings.ts';
import { csvRecord } from '../reports/csv.ts';
import { riskSettingsSchema } from '../risk/settings.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';
import type { BacktestAccount, BacktestResult } from './backtest.ts';

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

/** report.json, trades.csv (time,account,pair,side,qty,price,fee_usd,realized_pnl_usd,client_id,cause,reason), equity.csv. */
export function writeBacktest(dir: string, r: BacktestResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(r.report, null, 2) + '\n');
  const trades = [csvRecord(['time', 'account', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'cause', 'reason'])];
  for (const t of r.trades) trades.push(csvRecord([iso(t.time), t.account, t.pair, t.side, t.qty, t.price, t.feeUsd, t.realizedPnlUsd, t.clientId, t.cause, t.reason]));
  writeFileSync(join(dir, 'trades.csv'), trades.join(''));
  const equity = [csvRecord(['time', 'account', 'equity_usd', 'cash_usd', 'hedge_ratio'])];
  for (const e of r.equity) equity.push(csvRecord([iso(e.ts), e.account, e.equityUsd, e.cashUsd, e.hedgeRatio]));
  writeFileSync(join(dir, 'equity.csv'), equity.join(''));
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
