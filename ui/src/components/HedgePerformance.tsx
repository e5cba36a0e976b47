import type { Schemas } from '../api/client.ts';
import { formatPct, formatUsd } from '../lib/format.ts';
import { Time } from './Time.tsx';

export interface HedgePerformanceProps {
  performance: NonNullable<Schemas['HedgeReport']['performance']>;
}

/** What the hedge did (H-4): the portfolio against the same portfolio unhedged. */
export function HedgePerformance({ performance: p }: HedgePerformanceProps) {
  return (
    <>
      <p>From <Time iso={p.start} /> to <Time iso={p.end} /> ({p.points} snapshots).</p>
      <dl className="metrics">
        <div><dt>Saved by the hedge</dt><dd className={p.savedUsd >= 0 ? 'positive' : 'negative'}>{formatUsd(p.savedUsd)} ({formatPct(p.savedPct, true)})</dd></div>
        <div><dt>Return hedged</dt><dd>{formatPct(p.hedgedReturn, true)}</dd></div>
        <div><dt>Return unhedged</dt><dd>{formatPct(p.unhedgedReturn, true)}</dd></div>
        <div><dt>Largest drawdown hedged</dt><dd>{formatPct(p.maxDrawdownHedged)}</dd></div>
        <div><dt>Largest drawdown unhedged</dt><dd>{formatPct(p.maxDrawdownUnhedged)}</dd></div>
      </dl>
    </>
  );
}
