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

/** report.json, trades.csv (time,account,pair,side,qty,price,fee_usd,realized_pnl_usd,client_id,reason), equity.csv. */
export function writeBacktest(dir: string, r: BacktestResult): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), JSON.stringify(r.report, null, 2) + '\n');
  const trades = [csvRecord(['time', 'account', 'pair', 'side', 'qty', 'price', 'fee_usd', 'realized_pnl_usd', 'client_id', 'reason'])];
  for (const t of r.trades) trades.push(csvRecord([iso(t.time), t.account, t.pair, t.side, t.qty, t.price, t.feeUsd, t.realizedPnlUsd, t.clientId, t.reason]));
  writeFileSync(join(dir, 'trades.csv'), trades.join(''));
  const equity = [csvRecord(['time', 'account', 'equity_usd', 'cash_usd', 'hedge_ratio'])];
  for (const e of r.equity) equity.push(csvRecord([iso(e.ts), e.account, e.equityUsd, e.cashUsd, e.hedgeRatio]));
  writeFileSync(join(dir, 'equity.csv'), equity.join(''));
}
