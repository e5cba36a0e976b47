import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { usePoll } from '../lib/use-poll.ts';
import { DataState } from './DataState.tsx';
import { DataTable } from './DataTable.tsx';
import { SelectField } from './SelectField.tsx';
import { Time } from './Time.tsx';

/** Recent errors and risk events, newest first (admins: every account; viewers: theirs). */
export function SystemLog() {
  const [level, setLevel] = useState<'' | 'error' | 'risk'>('');
  const events = usePoll(() => unwrap(api.GET('/system/events', { params: { query: { ...(level ? { level } : {}), limit: 100 } } })), [level], 10_000);
  return (
    <>
      <SelectField label="Show" value={level} onChange={(e) => setLevel(e.target.value as '' | 'error' | 'risk')} options={[{ value: '', label: 'Errors and risk events' }, { value: 'error', label: 'Errors' }, { value: 'risk', label: 'Risk events' }]} />
      <DataState {...events} what="system events" isEmpty={(d) => d.events.length === 0} empty={<p className="muted">No recent errors or risk events.</p>} onRetry={events.reload}>
        {(d) => (
          <DataTable
            caption="System log, newest first"
            rows={d.events}
            rowKey={(e) => e.id}
            columns={[
              { header: 'When', cell: (e) => <Time iso={e.ts} /> },
              { header: 'Level', cell: (e) => <span className={e.level === 'error' ? 'negative' : undefined}>{e.level.toUpperCase()}</span> },
              { header: 'Account', cell: (e) => e.account ?? <span className="muted">global</span> },
              { header: 'Source', cell: (e) => e.source },
              { header: 'Event', cell: (e) => <>{e.code && <strong>{e.code}: </strong>}{e.message}</> },
            ]}
          />
        )}
      </DataState>
    </>
  );
}
