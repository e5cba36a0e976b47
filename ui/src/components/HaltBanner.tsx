import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';
import { Time } from './Time.tsx';

export interface HaltBannerProps {
  account: string;
  state: { state: 'ACTIVE' | 'REDUCING' | 'HALTED'; reason: string | null; since: string };
  canReset: boolean;
  onChanged: () => void;
}

/** Shown while an account is HALTED (or REDUCING): why and since when; an admin resumes it with a note. */
export function HaltBanner({ account, state, canReset, onChanged }: HaltBannerProps) {
  const [note, setNote] = useState('');
  const reset = useAction(async () => {
    await unwrap(api.POST('/accounts/{account}/trading-state/reset', { params: { path: { account } }, body: { note } }));
    setNote('');
    onChanged();
  }, 'Trading resumed.');
  if (state.state === 'ACTIVE') return null;
  const halted = state.state === 'HALTED';
  return (
    <section className={`alert ${halted ? 'alert-error' : 'alert-warning'}`} aria-label={halted ? 'Trading halted' : 'Trading reduced'}>
      <p>
        <strong>{halted ? 'Trading is HALTED' : 'Trading is REDUCING'}</strong> since <Time iso={state.since} />
        {state.reason ? `: ${state.reason}` : ''}. {halted ? 'No new entries are made; open positions keep their stops.' : 'Only exits and smaller entries are made.'}
      </p>
      {halted && canReset && (
        <form onSubmit={(e) => { e.preventDefault(); void reset.run(); }} aria-label="Resume trading">
          <TextField label="Note for the audit trail (why it is safe to resume)" value={note} onChange={(e) => setNote(e.target.value)} required />
          <ActionStatus action={reset} />
          <Button type="submit" busy={reset.busy} disabled={note.trim() === ''}>Resume trading</Button>
        </form>
      )}
    </section>
  );
}
