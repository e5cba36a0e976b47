import { api, unwrap } from '../api/client.ts';
import { Alert } from '../components/Alert.tsx';
import { Card } from '../components/Card.tsx';
import { DataState } from '../components/DataState.tsx';
import { NewUserForm } from '../components/NewUserForm.tsx';
import { UserRow } from '../components/UserRow.tsx';
import { canEdit, useSession } from '../lib/session.ts';
import { usePoll } from '../lib/use-poll.ts';

/** Users and roles (UI-7): admins create users and choose the accounts each viewer sees. */
export function UsersPage() {
  const session = useSession();
  const admin = canEdit(session);
  const users = usePoll(() => (admin ? unwrap(api.GET('/users')) : Promise.resolve({ users: [] })), [admin], 15_000);
  if (!admin)
    return (
      <>
        <h1>Users</h1>
        <Alert kind="info">Only admins manage users.</Alert>
      </>
    );
  return (
    <>
      <h1>Users</h1>
      <Card title="Create a user">
        <NewUserForm accounts={session.accounts} onCreated={users.reload} />
      </Card>
      <Card title="Users">
        <DataState {...users} what="users" onRetry={users.reload}>
          {(d) => (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Users</caption>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Accounts</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {d.users.map((u) => (
                    <UserRow key={`${u.id}-${u.accounts.join(',')}-${u.disabled}`} user={u} accounts={session.accounts} self={u.id === session.user.id} onChanged={users.reload} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </DataState>
      </Card>
    </>
  );
}
