import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';

export interface RunCycleButtonProps {
  disabled: boolean;
  onQueued: () => void;
}

/** Runs a cycle now for the newest closed bar (every account, as the schedule does); once per bar. */
export function RunCycleButton({ disabled, onQueued }: RunCycleButtonProps) {
  const run = useAction(async () => {
    const r = await unwrap(api.POST('/cycle'));
    onQueued();
    if (!r.queued) throw new Error('The cycle for the newest bar was already asked for; it shows here when it finishes.');
  }, 'Cycle queued: the numbers update when it finishes.');
  return (
    <div>
      <Button variant="secondary" disabled={disabled} busy={run.busy} onClick={() => void run.run()}>Run a cycle now</Button>
      <ActionStatus action={run} />
    </div>
  );
}
