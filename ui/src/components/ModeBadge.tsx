export interface ModeBadgeProps {
  mode: 'simulation' | 'live';
}

/** SIMULATION or LIVE, in words as well as colour: the two must never be confused. */
export function ModeBadge({ mode }: ModeBadgeProps) {
  return <span className={`badge badge-${mode}`}>{mode === 'live' ? 'LIVE' : 'SIMULATION'}</span>;
}
