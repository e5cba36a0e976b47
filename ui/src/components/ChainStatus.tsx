import { api, unwrap } from '../api/client.ts';
import { usePoll } from '../lib/use-poll.ts';
import { Alert } from './Alert.tsx';
import { DataState } from './DataState.tsx';

/** Whether the audit trail's hash chain verifies (G-3), re-checked while the page is open. */
export function ChainStatus() {
  const verify = usePoll(() => unwrap(api.GET('/audit/verify')), [], 30_000);
  return (
    <DataState {...verify} what="the chain verification" onRetry={verify.reload}>
      {(v) =>
        v.ok ? (
          <Alert kind="info">
            <strong>Chain verified:</strong> {v.rows} rows, each hashed over the one before{v.anchors ? `, ${v.anchors} anchored heads checked` : ''}.
            {v.warnings.length > 0 && ` Warnings: ${v.warnings.join('; ')}`}
          </Alert>
        ) : (
          <Alert kind="error">
            <strong>Chain verification FAILED</strong>{v.badId !== undefined ? ` at row #${v.badId}` : ''}: {v.reason ?? 'unknown reason'}. The audit trail may have been altered.
          </Alert>
        )
      }
    </DataState>
  );
}
