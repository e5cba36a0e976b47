import type { Schemas } from '../api/client.ts';

export interface TradeWhyProps {
  trade: Pick<Schemas['Trade'], 'cause' | 'intent' | 'reason' | 'modelVersion'>;
}

const CAUSES: Record<Schemas['Trade']['cause'], string> = {
  entry: 'Entry: the signal cleared the entry threshold and the risk checks',
  stop: 'Stop-loss hit',
  'take-profit': 'Take-profit reached',
  signal: 'Exit: the signal fell below the exit threshold',
  hedge: 'Hedge rebalance',
  halt: 'Flattened by the drawdown guard (HALTED)',
};

/** Why a trade happened: its cause in words, the decision's own reason (signal, threshold, regime, risk verdict) and the model version. */
export function TradeWhy({ trade }: TradeWhyProps) {
  return (
    <details>
      <summary>{CAUSES[trade.cause].split(':')[0]}</summary>
      <p>{CAUSES[trade.cause]}.</p>
      {trade.reason && <p className="mono">{trade.reason}</p>}
      <p className="muted">Intent: {trade.intent}{trade.modelVersion ? `; model ${trade.modelVersion}` : ''}</p>
    </details>
  );
}
