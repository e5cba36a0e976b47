import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';

export interface KillSwitchProps {
  account: string;
  accountName: string;
  disabled: boolean;
  onChanged: () => void;
}

/** "Stop trading now": the account goes HALTED at once and stays so until an admin resumes it. */
export function KillSwitch({ account, accountName, disabled, onChanged }: KillSwitchProps) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState('');
  const halt = useAction(async () => {
    await unwrap(api.POST('/accounts/{account}/trading-state/halt', { params: { path: { account } }, body: { note } }));
    setOpen(false);
    setNote('');
    onChanged();
  }, `${accountName} is halted.`);
  return (
    <div>
      {!open ? (
        <Button variant="danger" disabled={disabled} onClick={() => setOpen(true)}>Stop trading now</Button>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); void halt.run(); }} aria-label={`Stop trading ${accountName}`}>
          <TextField label="Why (recorded in the audit trail)" value={note} onChange={(e) => setNote(e.target.value)} required />
          <div className="row">
            <Button type="submit" variant="danger" busy={halt.busy} disabled={note.trim() === ''}>Halt {accountName}</Button>
            <Button variant="secondary" onClick={() => setOpen(false)}>Cancel</Button>
          </div>
        </form>
      )}
      <ActionStatus action={halt} />
    </div>
  );
}
