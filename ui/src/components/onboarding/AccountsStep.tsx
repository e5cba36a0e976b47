import { useState } from 'react';
import { Button } from '../Button.tsx';
import { TextField } from '../TextField.tsx';

export interface NewAccount {
  slug: string;
  name: string;
  kind: 'company' | 'director' | 'other';
}

export interface AccountsStepProps {
  busy: boolean;
  defaults: readonly NewAccount[];
  onSubmit: (accounts: NewAccount[]) => void;
}

/** Onboarding step 3: the accounts, company and two directors by default, renamable. */
export function AccountsStep({ busy, defaults, onSubmit }: AccountsStepProps) {
  const [accounts, setAccounts] = useState<NewAccount[]>([...defaults]);
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
