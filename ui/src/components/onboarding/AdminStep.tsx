import { useState, type FormEvent } from 'react';
import { Button } from '../Button.tsx';
import { TextField } from '../TextField.tsx';

export interface AdminStepProps {
  busy: boolean;
  onSubmit: (v: { token: string; email: string; name: string; password: string }) => void;
}

/** Onboarding step 1: the first admin, with the one-time token printed at first start. */
export function AdminStep({ busy, onSubmit }: AdminStepProps) {
  const [v, setV] = useState({ token: '', email: '', name: '', password: '', repeat: '' });
  const [mismatch, setMismatch] = useState(false);
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setMismatch(v.password !== v.repeat);
    if (v.password === v.repeat) onSubmit(v);
  };
  return (
    <form onSubmit={submit} aria-labelledby="step-title">
      <h2 id="step-title">Create the first admin</h2>
      <p>Use the one-time onboarding token printed by <code>npm start</code> on first start.</p>
      <TextField label="Onboarding token" name="token" autoComplete="off" required value={v.token} onChange={set('token')} />
      <TextField label="Your name" name="name" autoComplete="name" required value={v.name} onChange={set('name')} />
      <TextField label="Email" name="email" type="email" autoComplete="username" required value={v.email} onChange={set('email')} />
      <TextField label="Password" name="password" type="password" autoComplete="new-password" required hint="At least 12 characters" value={v.password} onChange={set('password')} />
      <TextField label="Repeat the password" name="repeat" type="password" autoComplete="new-password" required value={v.repeat} error={mismatch ? 'The two passwords differ' : null} onChange={set('repeat')} />
      <Button type="submit" busy={busy}>Create admin</Button>
    </form>
  );
}
