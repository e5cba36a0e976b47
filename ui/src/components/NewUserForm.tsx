import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { AccountPicker } from './AccountPicker.tsx';
import { ActionStatus } from './ActionStatus.tsx';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';
import { SelectField } from './SelectField.tsx';
import { TextField } from './TextField.tsx';

export interface NewUserFormProps {
  accounts: ReadonlyArray<Schemas['Account']>;
  onCreated: () => void;
}

/** Admins create viewers (with a password and their accounts) or invite another admin (a one-time token). */
export function NewUserForm({ accounts, onCreated }: NewUserFormProps) {
  const [role, setRole] = useState<'viewer' | 'admin'>('viewer');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [accountIds, setAccountIds] = useState<string[]>([]);
  const [invite, setInvite] = useState<{ token: string; expiresAt: string } | null>(null);
  const create = useAction(async () => {
    const body = role === 'admin' ? { role, email, name } : { role, email, name, password, accountIds };
    const r = await unwrap(api.POST('/users', { body }));
    setInvite(r.invite);
    setEmail('');
    setName('');
    setPassword('');
    setAccountIds([]);
    onCreated();
  }, 'User created.');
  return (
    <form onSubmit={(e) => { e.preventDefault(); void create.run(); }} aria-label="Create a user">
      <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value as 'viewer' | 'admin')} options={[{ value: 'viewer', label: 'Viewer (read-only, chosen accounts)' }, { value: 'admin', label: 'Admin (director; invited)' }]} />
      <TextField label="Email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} required />
      <TextField label="Name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} required />
      {role === 'viewer' && (
        <>
          <TextField label="Initial password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
          <AccountPicker legend="Accounts this viewer may see" accounts={accounts} value={accountIds} onChange={setAccountIds} />
        </>
      )}
      <ActionStatus action={create} />
      {invite && (
        <Alert kind="info">
          Give the new admin this one-time invite link (valid until {new Date(invite.expiresAt).toLocaleString()}; shown only now):{' '}
          <code className="mono">{`${window.location.origin}/invite?token=${encodeURIComponent(invite.token)}`}</code>
        </Alert>
      )}
      <Button type="submit" busy={create.busy}>Create user</Button>
    </form>
  );
}
