import { api, unwrap, type Schemas } from '../api/client.ts';

let pending: Promise<Schemas['Summary']> | null = null;
let startedAt = 0;

/**
 * Starts GET /summary while the app boots (GET /onboarding and /me), so a signed-in director's
 * dashboard does not wait for a second round trip. Unused (and harmless) when nobody is signed in.
 */
export function prefetchSummary(): void {
  pending = unwrap(api.GET('/summary'));
  startedAt = Date.now();
  pending.catch(() => undefined);
}

/** The prefetched summary once (if the dashboard opened right after booting), then fresh ones. */
export function loadSummary(): Promise<Schemas['Summary']> {
  const p = Date.now() - startedAt < 5000 ? pending : null;
  pending = null;
  return p ?? unwrap(api.GET('/summary'));
}
