import { useState, type FormEvent } from 'react';
import { api, messageOf, unwrap } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { Link } from '../components/Link.tsx';
import { TextField } from '../components/TextField.tsx';

export interface LoginPageProps {
  onLoggedIn: () => void;
  /** Heading; the onboarding wizard reuses the form under its own. */
  title?: string;
  /** Prefilled email (the wizard knows it). */
  email?: string;
}

/** Email, password and — for admins, or whoever enrolled one — the TOTP code. */
export function LoginPage({ onLoggedIn, title = 'Log in', email: initialEmail = '' }: LoginPageProps) {
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/auth/login', { body: { email, password, ...(totp ? { totp } : {}) } }));
      onLoggedIn();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h1>{title}</h1>
      <form onSubmit={(e) => void submit(e)} aria-label={title} className="card" noValidate>
        {error && <Alert kind="error">{error}</Alert>}
        <TextField label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <TextField label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        <TextField
          label="Authenticator code"
          name="totp"
          inputMode="numeric"
          autoComplete="one-time-code"
          pattern="[0-9]{6}"
          maxLength={6}
          hint="Six digits from your authenticator app (required for admins)"
          value={totp}
          onChange={(e) => setTotp(e.target.value.replace(/\D/g, ''))}
        />
        <Button type="submit" busy={busy}>Log in</Button>
        <p className="muted">Invited as an admin? <Link to="/invite">Set your password with the invite token</Link>.</p>
      </form>
    </>
  );
}
