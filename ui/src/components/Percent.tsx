import { formatPct } from '../lib/format.ts';

export interface PercentProps {
  /** A fraction: 0.01 = 1 %. */
  value: number | null | undefined;
  /** Colour gains and losses (with a + or − sign, so not by colour alone). */
  signed?: boolean;
}

/** A percentage. */
export function Percent({ value, signed = false }: PercentProps) {
  const cls = signed && value ? (value > 0 ? 'positive' : 'negative') : undefined;
  return <span className={cls}>{formatPct(value, signed)}</span>;
}
