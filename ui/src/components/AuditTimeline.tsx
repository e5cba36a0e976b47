import { api, unwrap } from '../api/client.ts';
import { usePoll } from '../lib/use-poll.ts';
import { DataState } from './DataState.tsx';
import { DataTable } from './DataTable.tsx';
import { Time } from './Time.tsx';

export interface AuditTimelineProps {
  account: string;
  /** An action, or a family ending in a dot (settings.). */
  action?: string;
  caption: string;
  /** Describes a row's details in a few words. */
  describe: (details: Record<string, unknown>, action: string) => string;
}

/** An account's recent audited actions of one kind: when, who, what. */
export function AuditTimeline({ account, action, caption, describe }: AuditTimelineProps) {
  const rows = usePoll(() => unwrap(api.GET('/audit', { params: { query: { account, ...(action ? { action } : {}), limit: 20 } } })), [account, action], 10_000);
  return (
    <DataState {...rows} what={caption.toLowerCase()} isEmpty={(d) => d.rows.length === 0} empty={<p className="muted">Nothing recorded yet.</p>} onRetry={rows.reload}>
      {(d) => (
        <DataTable
          caption={caption}
          rows={d.rows}
          rowKey={(r) => String(r.id)}
          columns={[
            { header: 'When', cell: (r) => <Time iso={r.ts} /> },
            { header: 'Who', cell: (r) => r.userEmail ?? <span className="muted">system</span> },
            { header: 'What', cell: (r) => describe(r.details, r.action) },
          ]}
        />
      )}
    </DataState>
  );
}
