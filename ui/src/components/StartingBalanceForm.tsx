import { useEffect, useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';

export interface StartingBalanceFormProps {
  account: string;
  /** The simulation settings' current initialUsd. */
  current: number | null;
  disabled: boolean;
  onSaved: () => void;
}

/** The virtual USD a simulated account starts with (the server judges the amount and when it may change). */
export function StartingBalanceForm({ account, current, disabled, onSaved }: StartingBalanceFormProps) {
  const [usd, setUsd] = useState(current === null ? '' : String(current));
  useEffect(() => setUsd(current === null ? '' : String(current)), [current]);
  const save = useAction(async () => {
    await unwrap(api.PUT('/accounts/{account}/starting-balance', { params: { path: { account } }, body: { usd: Number(usd) } }));
    onSaved();
  }, 'Starting balance saved.');
  return (
    <form onSubmit={(e) => { e.preventDefault(); void save.run(); }} aria-label="Simulation">
      <fieldset disabled={disabled}>
        <legend>Simulation</legend>
        <TextField label="Starting balance (USD)" inputMode="decimal" value={usd} onChange={(e) => setUsd(e.target.value)} />
        <ActionStatus action={save} />
        <Button type="submit" busy={save.busy}>Save starting balance</Button>
      </fieldset>
    </form>
  );
}
