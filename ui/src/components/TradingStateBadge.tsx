export type TradingStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface TradingStateBadgeProps {
  state: TradingStateName;
}

/** ACTIVE / REDUCING / HALTED, in words and colour. */
export function TradingStateBadge({ state }: TradingStateBadgeProps) {
  return <span className={`badge badge-${state.toLowerCase()}`}>{state}</span>;
}
