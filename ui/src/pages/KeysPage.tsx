import { api, unwrap } from '../api/client.ts';
import { AccountHeader } from '../components/AccountHeader.tsx';
import { ActionStatus } from '../components/ActionStatus.tsx';
import { Alert } from '../components/Alert.tsx';
import { AuditTimeline } from '../components/AuditTimeline.tsx';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { DataState } from '../components/DataState.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { KeyUploadForm } from '../components/KeyUploadForm.tsx';
import { LiveSwitch } from '../components/LiveSwitch.tsx';
import { Time } from '../components/Time.tsx';
import { canEdit, useSession } from '../lib/session.ts';
import { useAction } from '../lib/use-action.ts';
import { usePoll } from '../lib/use-poll.ts';

export interface KeysPageProps {
  slug: string;
}

/** Keys (UI-4) and the simulation/live switch (S-3), with the account's mode timeline. */
export function KeysPage({ slug }: KeysPageProps) {
  const session = useSession();
  const account = { path: { account: slug } };
  const keys = usePoll(() => unwrap(api.GET('/accounts/{account}/keys', { params: account })), [slug], 10_000);
  const summary = usePoll(() => unwrap(api.GET('/accounts/{account}/summary', { params: account })), [slug], 10_000);
  const name = session.accounts.find((a) => a.slug === slug)?.name ?? slug;
  const editable = canEdit(session);
  const changed = (): void => {
    keys.reload();
    summary.reload();
  };
  const revoke = useAction(async () => {
    const r = await unwrap(api.DELETE('/accounts/{account}/keys', { params: account }));
    changed();
    if (r.toSimulation) throw new Error('Key revoked; the account was live and is back in simulation.');
  }, 'Key revoked.');
  const active = keys.data?.keys.find((k) => k.active);

  return (
    <>
      <AccountHeader slug={slug} name={name} page="Keys and live trading" mode={summary.data?.mode} />
      {!editable && <Alert kind="info">You have read-only access: keys and the live switch are managed by an admin.</Alert>}
      <div className="grid">
        <Card title="Kraken key">
          <DataState {...keys} what="keys" onRetry={keys.reload}>
            {(k) => (
              <>
                {k.secret?.state === 'pending' && <Alert kind="warning">The key's Kubernetes Secret is not written yet ({k.secret.lastError ?? 'retrying'}).</Alert>}
                <DataTable
                  caption="Keys (only the fingerprint and last four characters are ever shown)"
                  rows={k.keys}
                  empty="No key uploaded: this account can only trade in simulation."
                  rowKey={(x) => x.fingerprint}
                  columns={[
                    { header: 'Fingerprint', cell: (x) => <span className="mono">{x.fingerprint}</span> },
                    { header: 'Ends with', cell: (x) => <span className="mono">…{x.keyLast4}</span> },
                    { header: 'Status', cell: (x) => (x.active ? 'active' : x.revokedAt ? 'revoked' : 'replaced') },
                    { header: 'Stored', cell: (x) => (x.storage === 'kubernetes' ? 'Kubernetes Secret' : 'encrypted in the database') },
                    { header: 'Uploaded', cell: (x) => <Time iso={x.createdAt} /> },
                  ]}
                />
                {active && editable && (
                  <>
                    <Button variant="secondary" busy={revoke.busy} onClick={() => void revoke.run()}>Revoke the active key</Button>
                    <ActionStatus action={revoke} />
                  </>
                )}
              </>
            )}
          </DataState>
          <h3>{active ? 'Replace the key' : 'Upload a key'}</h3>
          <KeyUploadForm account={slug} accountName={name} disabled={!editable} onUploaded={changed} />
        </Card>
        <Card title="Simulation or live">
          <DataState {...summary} what="the account's mode">
            {(s) => <LiveSwitch account={slug} mode={s.mode} hasKey={Boolean(active)} disabled={!editable} onChanged={changed} />}
          </DataState>
        </Card>
      </div>
      <Card title="Mode timeline">
        <AuditTimeline account={slug} action="settings.simulation" caption="Switches between simulation and live" describe={(d) => ((d.after as { enabled?: boolean } | null)?.enabled === false ? 'switched to LIVE' : 'switched to SIMULATION (or created)')} />
      </Card>
    </>
  );
}
