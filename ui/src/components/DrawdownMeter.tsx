import { formatPct } from '../lib/format.ts';

export interface DrawdownMeterProps {
  /** Today's drawdown, a fraction. */
  daily: number;
  softLimit: number;
  hardLimit: number;
}

/** Today's drawdown against its REDUCING and HALTED limits, as a meter with the numbers in text. */
export function DrawdownMeter({ daily, softLimit, hardLimit }: DrawdownMeterProps) {
  const text = `${formatPct(daily)} of ${formatPct(hardLimit)} limit (reducing at ${formatPct(softLimit)})`;
  return (
    <span className="drawdown">
      <meter min={0} max={hardLimit} low={softLimit * 0.75} high={softLimit} optimum={0} value={Math.min(daily, hardLimit)} aria-label={`Daily drawdown ${text}`} />{' '}
      <span>{formatPct(daily)}</span> <span className="muted">/ {formatPct(hardLimit)}</span>
    </span>
  );
}
