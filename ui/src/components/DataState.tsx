import type { ReactNode } from 'react';
import { messageOf } from '../api/client.ts';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';

export interface DataStateProps<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** What the data is, for the loading and empty messages ("accounts"). */
  what: string;
  /** Whether the loaded data counts as empty. */
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  onRetry?: () => void;
  children: (data: T) => ReactNode;
}

/** The loading, error and empty states around a piece of fetched data; a failed refresh keeps showing the last data. */
export function DataState<T>({ data, error, loading, what, isEmpty, empty, onRetry, children }: DataStateProps<T>) {
  const failure = error ? (
    <Alert kind="error">
      Could not load {what}: {messageOf(error)} {onRetry && <Button variant="secondary" onClick={onRetry}>Retry</Button>}
    </Alert>
  ) : null;
  if (data === undefined) {
    if (failure) return failure;
    return loading ? <p role="status" className="muted">Loading {what}…</p> : null;
  }
  return (
    <>
      {failure}
      {isEmpty?.(data) ? (empty ?? <p className="muted">No {what} yet.</p>) : children(data)}
    </>
  );
}
