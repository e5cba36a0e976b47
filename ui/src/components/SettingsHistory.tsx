import type { Schemas } from '../api/client.ts';
import { DataTable } from './DataTable.tsx';
import { Time } from './Time.tsx';

export interface SettingsHistoryProps {
  versions: ReadonlyArray<Schemas['SettingsVersion']>;
}

/** Every settings version: when, who, which kind and which fields changed, with the values written. */
export function SettingsHistory({ versions }: SettingsHistoryProps) {
  return (
    <DataTable
      caption="Settings versions, newest first"
      rows={versions}
      empty="No versions yet."
      rowKey={(v) => `${v.kind}-${v.version}`}
      columns={[
        { header: 'When', cell: (v) => <Time iso={v.createdAt} /> },
        { header: 'Who', cell: (v) => v.createdBy?.email ?? <span className="muted">system</span> },
        { header: 'Settings', cell: (v) => `${v.kind} v${v.version}` },
        { header: 'Changed', cell: (v) => (v.changed.length ? v.changed.join(', ') : <span className="muted">nothing</span>) },
        {
          header: 'Values',
          cell: (v) => (
            <details>
              <summary>Show values</summary>
              <pre className="mono">{JSON.stringify(Object.fromEntries(v.changed.map((k) => [k, v.value[k]])), null, 2)}</pre>
            </details>
          ),
        },
      ]}
    />
  );
}
