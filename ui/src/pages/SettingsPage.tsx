import { api, unwrap } from '../api/client.ts';
import { AccountHeader } from '../components/AccountHeader.tsx';
import { Alert } from '../components/Alert.tsx';
import { Card } from '../components/Card.tsx';
import { DataState } from '../components/DataState.tsx';
import { SettingsForm } from '../components/SettingsForm.tsx';
import { SettingsHistory } from '../components/SettingsHistory.tsx';
import { StartingBalanceForm } from '../components/StartingBalanceForm.tsx';
import { canEdit, useSession } from '../lib/session.ts';
import type { EditableKind } from '../lib/settings-fields.ts';
import { useAction } from '../lib/use-action.ts';
import { usePoll } from '../lib/use-poll.ts';

export interface SettingsPageProps {
  slug: string;
}

const KINDS: ReadonlyArray<[EditableKind, string]> = [
  ['trading', 'Trading'],
  ['risk', 'Risk'],
  ['hedge', 'Hedge'],
];

/** Configuration (UI-3): trading, risk, hedge and simulation settings, validated, with every version and who wrote it. */
export function SettingsPage({ slug }: SettingsPageProps) {
  const session = useSession();
  const account = { path: { account: slug } };
  const settings = usePoll(() => unwrap(api.GET('/accounts/{account}/settings', { params: account })), [slug], 15_000);
  const history = usePoll(() => unwrap(api.GET('/accounts/{account}/settings/history', { params: { ...account, query: { limit: 50 } } })), [slug], 15_000);
  const name = session.accounts.find((a) => a.slug === slug)?.name ?? slug;
  const editable = canEdit(session);
  const saved = (): void => {
    settings.reload();
    history.reload();
  };
  const patch = (kind: EditableKind) => async (body: Record<string, unknown>) => {
    await unwrap(api.PATCH('/accounts/{account}/settings/{kind}', { params: { path: { account: slug, kind } }, body }));
    saved();
  };
  const actions = {
    trading: useAction(patch('trading'), 'Trading settings saved.'),
    risk: useAction(patch('risk'), 'Risk settings saved.'),
    hedge: useAction(patch('hedge'), 'Hedge settings saved.'),
  };

  return (
    <>
      <AccountHeader slug={slug} name={name} page="Configuration" />
      {!editable && <Alert kind="info">You have read-only access: settings can be changed by an admin.</Alert>}
      <DataState {...settings} what="settings" onRetry={settings.reload}>
        {(s) => (
          <div className="grid">
            {KINDS.map(([kind, title]) => (
              <Card key={kind} title={`${title} (version ${s[kind].version})`}>
                <SettingsForm kind={kind} title={title} current={s[kind].value} disabled={!editable} save={actions[kind]} />
              </Card>
            ))}
            <Card title={`Simulation (version ${s.simulation.version})`}>
              <p>{s.simulation.value.enabled === false ? 'This account trades LIVE.' : 'This account trades in SIMULATION.'} Switch on the Keys and live trading page.</p>
              <StartingBalanceForm account={slug} current={typeof s.simulation.value.initialUsd === 'number' ? s.simulation.value.initialUsd : null} disabled={!editable} onSaved={saved} />
            </Card>
          </div>
        )}
      </DataState>
      <Card title="Version history">
        <DataState {...history} what="the settings history" onRetry={history.reload}>
          {(h) => <SettingsHistory versions={h.versions} />}
        </DataState>
      </Card>
    </>
  );
}
