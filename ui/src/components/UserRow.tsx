import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { AccountPicker } from './AccountPicker.tsx';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';

export interface UserRowProps {
  user: Schemas['ListedUser'];
  accounts: ReadonlyArray<Schemas['Account']>;
  /** The signed-in admin (who may not disable themself). */
  self: boolean;
  onChanged: () => void;
}

/** One user in the users table, with enable/disable and (viewers) their accounts. */
export function UserRow({ user, accounts, self, onChanged }: UserRowProps) {
  const assigned = accounts.filter((a) => user.accounts.includes(a.slug)).map((a) => a.id);
  const [ids, setIds] = useState(assigned);
  const path = { params: { path: { id: user.id } } };
  const toggle = useAction(async () => {
    await unwrap(user.disabled ? api.POST('/users/{id}/enable', path) : api.POST('/users/{id}/disable', path));
    onChanged();
  });
  const assign = useAction(async () => {
    await unwrap(api.PUT('/users/{id}/accounts', { ...path, body: { accountIds: ids } }));
    onChanged();
  }, 'Accounts saved.');
  return (
    <tr>
      <th scope="row">{user.name}<br /><span className="muted">{user.email}</span></th>
      <td>{user.role}{user.role === 'admin' && (user.totpEnrolled ? ' (TOTP)' : ' (no TOTP yet)')}{user.invitePending && ', invite pending'}</td>
      <td>{user.disabled ? 'disabled' : 'active'}</td>
      <td>
        {user.role === 'viewer' ? (
          <form onSubmit={(e) => { e.preventDefault(); void assign.run(); }} aria-label={`Accounts of ${user.email}`}>
            <AccountPicker legend={`Accounts ${user.email} may see`} accounts={accounts} value={ids} onChange={setIds} />
            <Button type="submit" variant="secondary" busy={assign.busy}>Save accounts</Button>
            <ActionStatus action={assign} />
          </form>
        ) : (
          'every account'
        )}
      </td>
      <td>
        <Button variant="secondary" disabled={self} busy={toggle.busy} onClick={() => void toggle.run()} aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}>
          {user.disabled ? 'Enable' : 'Disable'}
        </Button>
        <ActionStatus action={toggle} />
      </td>
    </tr>
  );
}
