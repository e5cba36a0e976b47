import { formatAmount, formatUsd } from '../lib/format.ts';

export interface HoldingsListProps {
  holdings: ReadonlyArray<{ asset: string; amount: number; valueUsd: number | null }>;
}

/** An account's balances, one per line: amount of the asset and its USD value. */
export function HoldingsList({ holdings }: HoldingsListProps) {
  const held = holdings.filter((h) => h.amount !== 0);
  if (held.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="holdings">
      {held.map((h) => (
        <li key={h.asset}>
          <span className="num">{formatAmount(h.amount)}</span> {h.asset}
          {h.asset !== 'USD' && h.valueUsd !== null && <span className="muted"> ({formatUsd(h.valueUsd)})</span>}
        </li>
      ))}
    </ul>
  );
}
