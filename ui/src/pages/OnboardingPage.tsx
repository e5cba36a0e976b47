import { useState, type FormEvent } from 'react';
import { api, messageOf, unwrap, type Schemas } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { KeyUploadForm } from '../components/KeyUploadForm.tsx';
import { TextField } from '../components/TextField.tsx';
import { TotpEnrolment } from '../components/TotpEnrolment.tsx';
import { DefaultsForm } from '../components/DefaultsForm.tsx';
import { onboardingStep, type OnboardingStep } from '../lib/onboarding-step.ts';
import { navigate } from '../lib/router.ts';
import { LoginPage } from './LoginPage.tsx';

export interface OnboardingPageProps {
  status: { needsAdmin: boolean; accounts: number };
  me: { user: Schemas['User']; accounts: Array<Schemas['Account']> } | null;
  onChanged: () => Promise<void> | void;
}

const STORE = 'aether.onboarding.finished';
const loadFinished = (): Set<OnboardingStep> => new Set(JSON.parse(localStorage.getItem(STORE) ?? '[]') as OnboardingStep[]);

const LABELS: Record<OnboardingStep, string> = { admin: 'First admin', totp: 'Authenticator', login: 'Log in', accounts: 'Accounts', keys: 'Kraken keys', defaults: 'Risk and hedge', done: 'Done' };
const SHOWN: OnboardingStep[] = ['admin', 'totp', 'accounts', 'keys', 'defaults', 'done'];

const DEFAULT_ACCOUNTS = [
  { slug: 'company', name: 'Company', kind: 'company' as const },
  { slug: 'director-1', name: 'Director 1', kind: 'director' as const },
  { slug: 'director-2', name: 'Director 2', kind: 'director' as const },
];

/**
 * First-run setup, resumable: the step comes from the server (GET /onboarding, GET /me) and, for the
 * two optional steps, from this browser. Closing the tab loses nothing but the QR code, which the
 * authenticator app already holds.
 */
export function OnboardingPage({ status, me, onChanged }: OnboardingPageProps) {
  const [finished, setFinished] = useState(loadFinished);
  // Kept between the admin form and the code check, which logs in with them (never stored).
  const [created, setCreated] = useState<{ email: string; password: string; totpUri: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const facts = { adminExists: !status.needsAdmin, accountsExist: status.accounts > 0, me: me && { role: me.user.role, totpEnrolled: me.user.totpEnrolled }, finished };
  let step = onboardingStep(facts);
  if (step === 'login' && created) step = 'totp';

  const finish = (s: OnboardingStep): void => {
    const next = new Set(finished).add(s);
    localStorage.setItem(STORE, JSON.stringify([...next]));
    setFinished(next);
  };

  const attempt = async (fn: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const current = step === 'login' ? 'totp' : step;
  return (
    <>
      <h1>Set up Aether</h1>
      <nav aria-label="Setup progress">
        <ol className="row">
          {SHOWN.map((s, i) => (
            <li key={s} aria-current={s === current ? 'step' : undefined} className={s === current ? '' : 'muted'}>
              {i + 1}. {LABELS[s]}
            </li>
          ))}
        </ol>
      </nav>
      {error && <Alert kind="error">{error}</Alert>}
      <section className="card" aria-labelledby="step-title">
        {step === 'admin' && <AdminStep busy={busy} onSubmit={(v) => attempt(async () => {
          const r = await unwrap(api.POST('/onboarding/admin', { body: { token: v.token, email: v.email, name: v.name, password: v.password } }));
          if (!r.totpUri) throw new Error('the server created the admin without a second factor');
          setCreated({ email: v.email, password: v.password, totpUri: r.totpUri });
          await onChanged();
        })} />}
        {step === 'totp' && created && <TotpStep created={created} busy={busy} onCheck={(code) => attempt(async () => {
          await unwrap(api.POST('/auth/login', { body: { email: created.email, password: created.password, totp: code } }));
          setCreated(null);
          await onChanged();
        })} />}
        {step === 'login' && (
          <>
            <h2 id="step-title" className="sr-only">Log in to continue</h2>
            <p>An admin exists. Log in with the authenticator app you enrolled to continue the setup.</p>
            <LoginPage title="Log in to continue setup" onLoggedIn={() => void onChanged()} />
          </>
        )}
        {step === 'accounts' && <AccountsStep busy={busy} onSubmit={(accounts) => attempt(async () => {
          await unwrap(api.POST('/onboarding/accounts', { body: { accounts } }));
          navigate('/onboarding', true);
          await onChanged();
        })} />}
        {step === 'keys' && me && (
          <>
            <h2 id="step-title">Kraken keys (optional)</h2>
            <p>Every account starts in <strong>SIMULATION</strong>: no key is needed until one goes live. You can upload keys now or later on each account's Keys page.</p>
            {me.accounts.map((a) => (
              <details key={a.id}>
                <summary>Upload a key for {a.name}</summary>
                <KeyUploadForm account={a.slug} accountName={a.name} />
              </details>
            ))}
            <div className="row">
              <Button onClick={() => finish('keys')}>Continue</Button>
            </div>
          </>
        )}
        {step === 'defaults' && me && (
          <>
            <h2 id="step-title">Risk and hedge defaults</h2>
            <p>Applied to every account; each account can be changed later on its Configuration page.</p>
            <DefaultsForm accounts={me.accounts.map((a) => a.slug)} />
            <Button onClick={() => finish('defaults')}>Continue</Button>
          </>
        )}
        {step === 'done' && (
          <>
            <h2 id="step-title">Setup complete</h2>
            <p>Your accounts trade in simulation. The dashboard shows them after their first cycle.</p>
            <Button onClick={() => { navigate('/', true); void onChanged(); }}>Open the dashboard</Button>
          </>
        )}
      </section>
    </>
  );
}

interface AdminStepProps {
  busy: boolean;
  onSubmit: (v: { token: string; email: string; name: string; password: string }) => void;
}

function AdminStep({ busy, onSubmit }: AdminStepProps) {
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

interface TotpStepProps {
  created: { totpUri: string };
  busy: boolean;
  onCheck: (code: string) => void;
}

function TotpStep({ created, busy, onCheck }: TotpStepProps) {
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

interface AccountsStepProps {
  busy: boolean;
  onSubmit: (accounts: typeof DEFAULT_ACCOUNTS) => void;
}

function AccountsStep({ busy, onSubmit }: AccountsStepProps) {
  const [accounts, setAccounts] = useState(DEFAULT_ACCOUNTS);
  return (
    <form onSubmit={(e) => { e.preventDefault(); onSubmit(accounts); }} aria-labelledby="step-title">
      <h2 id="step-title">Accounts</h2>
      <p>The company's account and one for each of the two directors. Rename them if you like; each starts in simulation.</p>
      {accounts.map((a, i) => (
        <fieldset key={a.slug}>
          <legend>{a.kind === 'company' ? 'Company account' : `Director account ${i}`}</legend>
          <TextField label={`Name of account ${a.slug}`} value={a.name} onChange={(e) => setAccounts(accounts.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))} />
        </fieldset>
      ))}
      <Button type="submit" busy={busy}>Create accounts</Button>
    </form>
  );
}
