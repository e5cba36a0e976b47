import { useState } from 'react';
import type { Action } from '../lib/use-action.ts';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';

export interface ActionStatusProps {
  action: Pick<Action<never[]>, 'error' | 'done' | 'needsStepUp' | 'stepUp' | 'cancelStepUp' | 'busy'>;
}

/** An action's outcome: the server's error, the success message, or the TOTP prompt a step-up needs. */
export function ActionStatus({ action }: ActionStatusProps) {
  const [code, setCode] = useState('');
  return (
    <>
      {action.error && <Alert kind="error">{action.error}</Alert>}
      {action.done && <Alert kind="info">{action.done}</Alert>}
      {action.needsStepUp && (
        <div className="row">
          <TextField label="Authenticator code (step-up)" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))} />
          <Button busy={action.busy} onClick={() => void action.stepUp(code).then(() => setCode(''))}>Confirm code</Button>
          <Button variant="secondary" onClick={action.cancelStepUp}>Cancel</Button>
        </div>
      )}
    </>
  );
}
