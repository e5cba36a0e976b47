import { Time } from './Time.tsx';
import { TradingStateBadge, type TradingStateName } from './TradingStateBadge.tsx';

export interface TradingStateCellProps {
  state: { state: TradingStateName; reason: string | null; since: string };
}

/** The trading state with why and since when. */
export function TradingStateCell({ state }: TradingStateCellProps) {
  return (
    <span>
      <TradingStateBadge state={state.state} />
      {state.reason && <span className="muted"> {state.reason}</span>}
      <br />
      <span className="muted">since <Time iso={state.since} /></span>
    </span>
  );
}
