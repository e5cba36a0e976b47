import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';
import { ModeBadge } from './ModeBadge.tsx';
import { TextField } from './TextField.tsx';

export interface LiveSwitchProps {
  account: string;
  mode: 'simulation' | 'live';
  /** Whether the account has an active, validated key. */
  hasKey: boolean;
  disabled: boolean;
  onChanged: () => void;
}

/**
 * Simulation ↔ live (S-3). Live trades real money: it needs a verified key and the confirmation
 * phrase typed exactly (and a fresh TOTP code, asked for if the session has none). Back to
 * simulation is one click.
 */
export function LiveSwitch({ account, mode, hasKey, disabled, onChanged }: LiveSwitchProps) {
  const phrase = `LIVE ${account}`;
  const [typed, setTyped] = useState('');
  const toLive = useAction(async () => {
    await unwrap(api.POST('/accounts/{account}/simulation', { params: { path: { account } }, body: { enabled: false, confirm: typed } }));
    setTyped('');
    onChanged();
  }, 'The account now trades LIVE with real money.');
  const toSim = useAction(async () => {
    await unwrap(api.POST('/accounts/{account}/simulation', { params: { path: { account } }, body: { enabled: true } }));
    onChanged();
  }, 'The account is back in simulation.');

  return (
    <div>
      <p>
        This account trades in <ModeBadge mode={mode} />.
      </p>
      {mode === 'live' ? (
        <>
          <Button disabled={disabled} busy={toSim.busy} onClick={() => void toSim.run()}>Back to simulation</Button>
          <ActionStatus action={toSim} />
        </>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); void toLive.run(); }} aria-label="Go live">
          <fieldset disabled={disabled}>
            <legend>Go live</legend>
            {!hasKey && <Alert kind="warning">Upload a Kraken key first: going live needs a key Kraken has accepted.</Alert>}
            <p>Live trading places real orders on Kraken with this account's money. Type <strong className="mono">{phrase}</strong> to confirm.</p>
            <TextField label="Confirmation phrase" autoComplete="off" spellCheck={false} value={typed} onChange={(e) => setTyped(e.target.value)} error={typed && !phrase.startsWith(typed) ? `Type exactly: ${phrase}` : null} />
            <ActionStatus action={toLive} />
            <Button type="submit" variant="danger" busy={toLive.busy} disabled={!hasKey || typed !== phrase}>Go live</Button>
          </fieldset>
        </form>
      )}
    </div>
  );
}
