import type { Schemas } from '../api/client.ts';
import { formatPct } from '../lib/format.ts';

export interface RiskMetricsProps {
  risk: Schemas['RiskReport'];
  drawdown: Schemas['AccountSummary']['drawdown'];
}

/** RP-3: drawdown, exposure and volatility, as a description list. */
export function RiskMetrics({ risk, drawdown }: RiskMetricsProps) {
  const rows: Array<[string, string]> = [
    ["Today's drawdown", `${formatPct(drawdown.daily)} (REDUCING at ${formatPct(drawdown.softLimit)}, HALTED at ${formatPct(drawdown.hardLimit)})`],
    ['Drawdown from peak', formatPct(risk.currentDrawdown)],
    ['Largest drawdown', formatPct(risk.maxDrawdown)],
    ['Exposure now', formatPct(risk.exposure)],
    ['Average exposure', formatPct(risk.averageExposure)],
    ['Volatility (annualised)', formatPct(risk.volatilityAnnual)],
  ];
  return (
    <dl className="metrics">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
