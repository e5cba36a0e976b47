import { useState } from 'react';
import { ApiError, api, messageOf, unwrap } from '../api/client.ts';

export interface Action<A extends unknown[]> {
  run: (...args: A) => Promise<boolean>;
  busy: boolean;
  error: string | null;
  /** The last success's message, if the caller gave one. */
  done: string | null;
  /** Set while the server waits for a fresh TOTP code (403 STEP_UP_REQUIRED): give it to `stepUp`. */
  needsStepUp: boolean;
  stepUp: (totp: string) => Promise<void>;
  cancelStepUp: () => void;
}

/**
 * A user action against the API: busy while it runs, the server's own message when it refuses,
 * and step-up handled — a 403 STEP_UP_REQUIRED asks for a TOTP code, then repeats the action.
 */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>, success?: string): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [pending, setPending] = useState<A | null>(null);

  const run = async (...args: A): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await action(...args);
      setPending(null);
      setDone(success ?? null);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'STEP_UP_REQUIRED') {
        setPending(() => args);
        setError('This action needs a fresh code from your authenticator app.');
      } else {
        setPending(null); // refused for another reason (also after a step-up): no code prompt left behind
        setError(messageOf(err));
      }
      return false;
    } finally {
      setBusy(false);
    }
  };

  const stepUp = async (totp: string): Promise<void> => {
    if (!pending) return;
    setBusy(true);
    try {
      await unwrap(api.POST('/auth/step-up', { body: { totp } }));
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
      return;
    }
    await run(...pending);
  };

  return { run, busy, error, done, needsStepUp: pending !== null, stepUp, cancelStepUp: () => { setPending(null); setError(null); } };
}
