import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBacktest, type BacktestReport } from '../../lib/cycle/backtest.ts';
import { baselineProvider } from '../../lib/cycle/signals.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { hedgeSettingsSchema } from '../../lib/hedge/settings.ts';
import type { Candle } from '../../lib/market/candle.ts';
import { readCandlesCsv } from '../../lib/market/csv.ts';
import { riskSettingsSchema } from '../../lib/risk/settings.ts';
import { tradingSettingsSchema } from '../../lib/strategy/settings.ts';

/**
 * Issue 10, item 3: the default strategy survives costs. On every recorded pair alone and on all
 * three together in one account — the real backtest (signals, decide, risk engine, hedge, SimBroker
 * with Kraken's fees and modelled slippage), default settings parsed from the schemas — it must
 * have at least buy-and-hold's Sharpe, at most half its maximum drawdown, and trade less than 30×
 * its equity a year. 2021-01 → 2023-01 (SOL from its listing in 2021-06): the 2021 bull legs, the
 * 2022 bear market, LUNA and FTX. The first 30 days of each file warm the signal up (its 28-day
 * momentum needs them); strategy and buy-and-hold are both measured from there.
 */
const DATA = fileURLToPath(new URL('../../data/ohlcv/', import.meta.url));
const END = Date.parse('2023-01-01T00:00:00Z');
const WARM_UP_MS = 30 * 86_400_000;

const candles = (base: string): Candle[] => readCandlesCsv(`${DATA}kraken_${base}USD_1h.csv`, `${base}/USD`).filter((c) => c.openTime < END);

async function backtest(pairs: string[]): Promise<{ report: BacktestReport; years: number }> {
  const data = Object.fromEntries(pairs.map((p) => [p, candles(p.split('/')[0]!)]));
  const first = Math.min(...Object.values(data).map((cs) => cs[0]!.openTime));
  const settings = { trading: tradingSettingsSchema.parse({ pairs }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) };
  const { report } = await runBacktest({
    candles: data,
    markets: USD_MARKETS,
    accounts: [{ id: 'acceptance', initialUsd: 10_000, settings }],
    signals: baselineProvider,
    from: first + WARM_UP_MS,
    to: END,
  });
  return { report, years: (Date.parse(report.end) - Date.parse(report.start)) / (365 * 86_400_000) };
}

describe('the default strategy survives costs (issue 10 item 3)', () => {
  it.each([[['BTC/USD']], [['ETH/USD']], [['SOL/USD']], [['BTC/USD', 'ETH/USD', 'SOL/USD']]])(
    '%j: Sharpe ≥ buy-and-hold, max drawdown ≤ half of it, turnover < 30× equity a year',
    async (pairs) => {
      const { report: r, years } = await backtest(pairs);
      const bh = r.buy_and_hold;
      const figures = `${pairs.join('+')} ${r.start} → ${r.end}: return ${r.total_return}, Sharpe ${r.sharpe}, maxDD ${r.max_drawdown}, turnover ${(r.turnover / years).toFixed(2)}/y, ${r.trades} fills, fees ${r.fees_usd} USD | buy-and-hold return ${bh.total_return}, Sharpe ${bh.sharpe}, maxDD ${bh.max_drawdown}`;
      // It trades (a strategy that never trades would pass on bear-market data alone), and pays for it.
      expect(r.trades, figures).toBeGreaterThanOrEqual(10);
      expect(r.fees_usd, figures).toBeGreaterThan(0);
      expect(years, figures).toBeGreaterThan(1.4);
      expect(r.sharpe, figures).toBeGreaterThanOrEqual(bh.sharpe);
      expect(r.max_drawdown, figures).toBeLessThanOrEqual(bh.max_drawdown / 2);
      expect(r.turnover / years, figures).toBeLessThan(30);
    },
    600_000,
  );
});
