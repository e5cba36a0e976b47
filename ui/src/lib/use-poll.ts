import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** When the data was last fetched (ms). */
  at: number | null;
  reload: () => void;
}

/**
 * Loads `load()` now and again every `everyMs` while the page is open and visible (live refresh);
 * keeps the last good data when a refresh fails, and shows that failure alongside it.
 */
export function usePoll<T>(load: () => Promise<T>, deps: readonly unknown[], everyMs = 5000): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean; at: number | null }>({ data: undefined, error: undefined, loading: true, at: null });
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const data = await loadRef.current();
        if (!cancelled) setState({ data, error: undefined, loading: false, at: Date.now() });
      } catch (error) {
        if (!cancelled) setState((s) => ({ ...s, error, loading: false }));
      }
      if (!cancelled && everyMs > 0) timer = setTimeout(() => void (document.hidden ? schedule() : run()), everyMs);
    };
    const schedule = (): void => {
      timer = setTimeout(() => void (document.hidden ? schedule() : run()), everyMs);
    };
    setState((s) => ({ ...s, loading: s.data === undefined }));
    void run();
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [...deps, tick, everyMs]);

  return { ...state, reload };
}
