import { useState } from 'react';
import { Button } from '../Button.tsx';
import { TextField } from '../TextField.tsx';
import { TotpEnrolment } from '../TotpEnrolment.tsx';

export interface TotpStepProps {
  created: { totpUri: string };
  busy: boolean;
  onCheck: (code: string) => void;
}

/** Onboarding step 2: the new admin's authenticator QR code, and a code from it checked by logging in. */
export function TotpStep({ created, busy, onCheck }: TotpStepProps) {
  const [code, setCode] = useState('');
  return (
    <form onSubmit={(e) => { e.preventDefault(); onCheck(code); }} aria-labelledby="step-title">
      <h2 id="step-title">Set up your authenticator</h2>
      <TotpEnrolment uri={created.totpUri} />
      <TextField label="Code from the app" name="totp" inputMode="numeric" autoComplete="one-time-code" maxLength={6} hint="Enter the six digits it shows to check it works; this also logs you in." value={code} onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))} />
      <Button type="submit" busy={busy}>Check code and continue</Button>
    </form>
  );
}
