import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

/** Where the api function is mounted: the embedded gateway and the cluster ingress both publish it here. */
export const API_BASE = '/function/api';

export type Schemas = components['schemas'];

/** The typed API client (types generated from the api's OpenAPI document: ui/scripts/openapi.ts). The session rides in its HttpOnly cookie. */
export const api = createClient<paths>({ baseUrl: API_BASE, credentials: 'same-origin' });

/** A refusal from the server, with its code and message as sent (shown to the user as is). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Listener = () => void;
const expiredListeners = new Set<Listener>();

/** Called when any request answers 401: the session ended (expired, logged out elsewhere, revoked). */
export function onSessionExpired(listener: Listener): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

api.use({
  onResponse({ response, request }) {
    // A failed login is a 401 too, but it is not the end of a session.
    if (response.status === 401 && !new URL(request.url).pathname.endsWith('/auth/login')) for (const l of expiredListeners) l();
    return undefined;
  },
});

interface Result<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an answer, or an ApiError carrying the server's own message. */
export async function unwrap<T>(pending: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await pending;
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `The server could not be reached (${(err as Error).message}). Check that Aether is running.`);
  }
  if (r.response.ok) return r.data as T;
  const body = r.error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof body?.code === 'string' ? body.code : `HTTP_${r.response.status}`;
  const message = typeof body?.message === 'string' ? body.message : `The server answered ${r.response.status} ${r.response.statusText}`;
  throw new ApiError(r.response.status, code, message);
}

/** The message to show for any failure. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
