import { formatTime, formatUtc } from '../lib/format.ts';

export interface TimeProps {
  /** An ISO 8601 instant. */
  iso: string | null | undefined;
}

/** An instant in the user's zone; the UTC time on hover. */
export function Time({ iso }: TimeProps) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatUtc(iso)}>
      {formatTime(iso)}
    </time>
  );
}
