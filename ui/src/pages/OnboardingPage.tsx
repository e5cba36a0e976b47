import { useState } from 'react';
import { api, messageOf, unwrap, type Schemas } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { KeyUploadForm } from '../components/KeyUploadForm.tsx';
import { AccountsStep } from '../components/onboarding/AccountsStep.tsx';
import { AdminStep } from '../components/onboarding/AdminStep.tsx';
import { TotpStep } from '../components/onboarding/TotpStep.tsx';
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
        {step === 'accounts' && <AccountsStep busy={busy} defaults={DEFAULT_ACCOUNTS} onSubmit={(accounts) => attempt(async () => {
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
