import { useState, type FormEvent } from 'react';
import { api, messageOf, unwrap } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { Link } from '../components/Link.tsx';
import { TextField } from '../components/TextField.tsx';

export interface InvitePageProps {
  /** The token from the invite link (?token=…), if any. */
  token: string;
}

/** An invited admin sets their password with the one-time invite token, then logs in and enrols a second factor. */
export function InvitePage({ token: initial }: InvitePageProps) {
  const [token, setToken] = useState(initial);
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (password !== repeat) return setError('The two passwords differ');
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/onboarding/invite', { body: { token, password } }));
      setDone(true);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>Accept an invitation</h1>
      {done ? (
        <Alert kind="info">
          Your password is set. <Link to="/">Log in</Link> with your email and it; you will then set up your authenticator app.
        </Alert>
      ) : (
        <form className="card" aria-label="Accept an invitation" onSubmit={(e) => void submit(e)} noValidate>
          {error && <Alert kind="error">{error}</Alert>}
          <TextField label="Invite token" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required />
          <TextField label="New password" type="password" autoComplete="new-password" hint="At least 12 characters" value={password} onChange={(e) => setPassword(e.target.value)} required />
          <TextField label="Repeat the password" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required />
          <Button type="submit" busy={busy}>Set password</Button>
        </form>
      )}
    </>
  );
}
