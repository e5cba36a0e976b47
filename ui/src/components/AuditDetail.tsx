import type { Schemas } from '../api/client.ts';

export interface AuditDetailProps {
  row: Schemas['AuditRow'];
}

/** Keys whose value differs between two objects. */
function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One audit row in full: before → after for the fields that changed, the other details, and its place in the hash chain. */
export function AuditDetail({ row }: AuditDetailProps) {
  const { before, after, ...rest } = row.details;
  const diff = isRecord(after) ? changedKeys(isRecord(before) ? before : {}, after) : [];
  return (
    <details>
      <summary>Details of #{row.id}</summary>
      {diff.length > 0 && (
        <table>
          <caption>Before and after</caption>
          <thead>
            <tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr>
          </thead>
          <tbody>
            {diff.map((k) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="mono">{JSON.stringify(isRecord(before) ? before[k] : undefined) ?? '—'}</td>
                <td className="mono">{JSON.stringify((after as Record<string, unknown>)[k]) ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {Object.keys(rest).length > 0 && <pre className="mono">{JSON.stringify(rest, null, 2)}</pre>}
      <p className="muted mono">hash {row.hash.slice(0, 16)}… (previous {row.prevHash.slice(0, 16)}…, {row.alg})</p>
    </details>
  );
}
