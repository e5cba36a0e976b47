import { useState, type FormEvent } from 'react';
import { api, messageOf, unwrap, type Schemas } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { TextField } from '../components/TextField.tsx';
import { TotpEnrolment } from '../components/TotpEnrolment.tsx';

export interface ObligationPageProps {
  obligation: 'PASSWORD_CHANGE_REQUIRED' | 'TOTP_ENROLMENT_REQUIRED';
  user: Schemas['User'];
  onDone: () => void;
}

/** What a user must do before anything else: change a reset password, or (admins) enrol a second factor. */
export function ObligationPage({ obligation, onDone }: ObligationPageProps) {
  const [uri, setUri] = useState<string | null>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: FormEvent, action: () => Promise<unknown>): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  if (obligation === 'PASSWORD_CHANGE_REQUIRED')
    return (
      <>
        <h1>Choose a new password</h1>
        <form className="card" aria-label="Change password" onSubmit={(e) => void run(e, async () => { await unwrap(api.POST('/me/password', { body: { currentPassword: current, newPassword: next } })); onDone(); })}>
          {error && <Alert kind="error">{error}</Alert>}
          <p>An admin reset your password. Choose your own before you continue.</p>
          <TextField label="Current (temporary) password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
          <TextField label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
          <Button type="submit" busy={busy}>Change password</Button>
        </form>
      </>
    );

  return (
    <>
      <h1>Set up your second factor</h1>
      <div className="card">
        {error && <Alert kind="error">{error}</Alert>}
        <p>Admins sign in with a code from an authenticator app as well as their password.</p>
        {!uri ? (
          <Button busy={busy} onClick={() => void run({ preventDefault() {} } as FormEvent, async () => setUri((await unwrap(api.POST('/me/totp'))).totpUri))}>Show my QR code</Button>
        ) : (
          <form aria-label="Confirm authenticator code" onSubmit={(e) => void run(e, async () => { await unwrap(api.POST('/me/totp/confirm', { body: { totp: code } })); onDone(); })}>
            <TotpEnrolment uri={uri} />
            <TextField label="Code from the app" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))} />
            <Button type="submit" busy={busy}>Confirm</Button>
          </form>
        )}
      </div>
    </>
  );
}
