import { beforeAll, describe, expect, it } from 'vitest';
import { runBacktest, type BacktestResult } from '../../../lib/cycle/backtest.ts';
import { baselineProvider } from '../../../lib/cycle/signals.ts';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';
import { USD_MARKETS } from '../../../lib/exchange/usd-markets.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { DEFAULT_ADAPTATION_POLICY } from '../../../lib/strategy/adaptation.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';
import { repoWindow } from '../../helpers/candles.ts';

/**
 * "The backtest stays honest" (issue 10): nothing a backtest decides before a time T depends on
 * candles after T. The same backtest on the full data and on the data cut at T gives the same trades
 * (every field: price, fee, cause, reason), the same equity and the same adaptation changes before T.
 * Checked with the nightly adaptation on (a policy that steps after 2 trades, so it really changes
 * settings inside the window) and a second account under a manual hedge (its phase sells when the
 * holdings exceed a fifth of equity).
 */
const PAIRS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
const FROM = Date.parse('2022-01-01T00:00:00Z');
const TO = Date.parse('2022-07-01T00:00:00Z');
const CUTS = ['2022-02-15T00:00:00Z', '2022-04-01T13:00:00Z', '2022-05-20T02:00:00Z'].map(Date.parse);

const settings = (hedge: Record<string, unknown> = {}) => ({
  trading: tradingSettingsSchema.parse({ pairs: PAIRS }),
  risk: riskSettingsSchema.parse({}),
  hedge: hedgeSettingsSchema.parse(hedge),
});

let candles: Record<string, Candle[]>;
const backtest = (data: Record<string, Candle[]>): Promise<BacktestResult> =>
  runBacktest({
    candles: data,
    markets: USD_MARKETS,
    accounts: [
      { id: 'plain', initialUsd: 10_000, settings: settings() },
      { id: 'hedged', initialUsd: 10_000, settings: settings({ mode: 'manual', manualRatio: 0.8 }) },
    ],
    signals: baselineProvider,
    from: FROM,
    adaptation: { cron: '30 2 * * *', policy: { ...DEFAULT_ADAPTATION_POLICY, minTrades: 2 } },
  });
let full: BacktestResult;

beforeAll(async () => {
  candles = Object.fromEntries(PAIRS.map((p) => [p, repoWindow(p, FROM, TO, 800)]));
  full = await backtest(candles);
}, 120_000);

describe('a backtest cut at T', () => {
  it('the full run trades and adapts, so the comparisons below mean something', () => {
    expect(full.trades.length).toBeGreaterThan(5);
    expect(Object.values(full.adaptations).flat().length).toBeGreaterThan(0);
  });

  it.each(CUTS.map((t) => [new Date(t).toISOString(), t]))('at %s leaves every trade, equity point and adaptation before it unchanged', async (_iso, cut) => {
    const before = <T>(xs: readonly T[], time: (x: T) => number) => xs.filter((x) => time(x) < cut);
    const cutData = Object.fromEntries(PAIRS.map((p) => [p, candles[p]!.filter((c) => c.openTime + c.interval * 1000 <= cut)]));
    const part = await backtest(cutData);
    expect(before(full.trades, (t) => t.time).length).toBeGreaterThan(0);
    expect(before(part.trades, (t) => t.time)).toEqual(before(full.trades, (t) => t.time));
    expect(before(part.equity, (e) => e.ts)).toEqual(before(full.equity, (e) => e.ts));
    for (const id of ['plain', 'hedged']) expect(before(part.adaptations[id]!, (a) => a.at)).toEqual(before(full.adaptations[id]!, (a) => a.at));
  }, 120_000);
});
