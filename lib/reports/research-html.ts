/**
 * report.html of `aether research` (pure): the terminal table, then per scope the equity curves of
 * every strategy (the equity-<scope>.svg charts), their drawdowns and — for a one-pair scope — each
 * traded strategy's fills on the pair's price.
 */
import type { Candle } from '../market/candle.ts';
import { drawdownChart, reportHtml, tradesOnPriceChart, type PricedFill } from './report-html.ts';
import type { StrategyRun } from './research.ts';

export interface ResearchPage {
  title: string;
  subtitle: string;
  table: string;
  settings: ReadonlyArray<readonly [string, string]>;
  scopes: ReadonlyArray<{ name: string; pairs: readonly string[]; from: number; to: number; equitySvg: string }>;
  runs: readonly StrategyRun[];
  candles: Record<string, readonly Candle[]>;
}

const fillsOf = (run: StrategyRun, pair: string): PricedFill[] =>
  run.fills.flatMap((f) => (f.order?.pair === pair ? [{ time: f.time, side: f.order.side, qty: f.order.qty, price: f.order.price, reason: f.order.reason }] : []));

export function researchHtml(p: ResearchPage): string {
  return reportHtml({
    title: p.title,
    subtitle: p.subtitle,
    figures: p.settings,
    sections: [
      { heading: 'Results after costs', text: 'Per strategy, scope and year (research.md explains each column).', pre: p.table },
      ...p.scopes.flatMap((scope) => {
        const runs = p.runs.filter((r) => r.scope === scope.name);
        const traded = scope.pairs.length === 1 ? runs.filter((r) => r.fills.some((f) => f.order)) : [];
        return [
          {
            heading: `${scope.name}: equity and drawdown`,
            svgs: [scope.equitySvg, drawdownChart(`Drawdown from each curve's peak — ${scope.name}`, runs.map((r) => ({ label: r.strategy, points: r.points })))],
          },
          ...traded.map((r) => {
            const pair = scope.pairs[0]!;
            const fills = fillsOf(r, pair);
            return {
              heading: `${pair}: ${r.strategy}'s trades on price`,
              text: 'Buys are green ▲, sells red ▼ (hover for time, quantity, price and reason).',
              svgs: [tradesOnPriceChart(`${pair} closes and ${r.strategy}'s ${fills.length} fills`, p.candles[pair] ?? [], fills, scope.from, scope.to)],
            };
          }),
        ];
      }),
    ],
  });
}
