import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client.ts';
import { usePoll } from '../lib/use-poll.ts';
import { AuditDetail } from './AuditDetail.tsx';
import { Button } from './Button.tsx';
import { DataState } from './DataState.tsx';
import { DataTable } from './DataTable.tsx';
import { SelectField } from './SelectField.tsx';
import { TextField } from './TextField.tsx';
import { Time } from './Time.tsx';

export interface AuditTrailProps {
  accounts: ReadonlyArray<Schemas['Account']>;
}

/** The audit trail, newest first, filtered by account, user, action and days; older pages on demand. */
export function AuditTrail({ accounts }: AuditTrailProps) {
  const [f, setF] = useState({ account: '', user: '', action: '', from: '', to: '' });
  const [before, setBefore] = useState<number[]>([]);
  const query = Object.fromEntries(Object.entries(f).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, v.trim()]));
  const cursor = before.at(-1);
  const page = usePoll(() => unwrap(api.GET('/audit', { params: { query: { ...query, ...(cursor !== undefined ? { before: cursor } : {}), limit: 50 } } })), [JSON.stringify(query), cursor], 10_000);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => {
    setF({ ...f, [k]: e.target.value });
    setBefore([]);
  };
  return (
    <>
      <form className="row" aria-label="Filter the audit trail" onSubmit={(e) => e.preventDefault()}>
        <SelectField label="Account" value={f.account} onChange={set('account')} options={[{ value: '', label: 'All accounts' }, ...accounts.map((a) => ({ value: a.slug, label: a.name }))]} />
        <TextField label="User (email)" value={f.user} onChange={set('user')} />
        <TextField label="Action" value={f.action} hint="e.g. settings.risk, or settings. for a family" onChange={set('action')} />
        <TextField label="From (day)" type="date" value={f.from} onChange={set('from')} />
        <TextField label="To (day)" type="date" value={f.to} onChange={set('to')} />
      </form>
      <DataState {...page} what="the audit trail" isEmpty={(d) => d.rows.length === 0} empty={<p className="muted">No audited action matches.</p>} onRetry={page.reload}>
        {(d) => (
          <>
            <DataTable
              caption="Audit trail, newest first"
              rows={d.rows}
              rowKey={(r) => String(r.id)}
              columns={[
                { header: '#', numeric: true, cell: (r) => r.id },
                { header: 'When', cell: (r) => <Time iso={r.ts} /> },
                { header: 'User', cell: (r) => r.userEmail ?? <span className="muted">system</span> },
                { header: 'Account', cell: (r) => r.accountSlug ?? <span className="muted">global</span> },
                { header: 'Action', cell: (r) => <span className="mono">{r.action}</span> },
                { header: 'Detail', cell: (r) => <AuditDetail row={r} /> },
              ]}
            />
            <div className="row">
              <Button variant="secondary" disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>Newer</Button>
              <Button variant="secondary" disabled={d.nextBefore === null} onClick={() => d.nextBefore !== null && setBefore([...before, d.nextBefore])}>Older</Button>
            </div>
          </>
        )}
      </DataState>
    </>
  );
}
