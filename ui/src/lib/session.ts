import { createContext, useContext } from 'react';
import type { Schemas } from '../api/client.ts';

export interface Session {
  user: Schemas['User'];
  accounts: Array<Schemas['Account']>;
  /** Re-reads /me (after a change to the user or the accounts). */
  refresh: () => Promise<void>;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

/** The logged-in user; only under the signed-in part of the app. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

/** Whether the user may change things (admins); viewers see every control disabled. */
export const canEdit = (s: Session): boolean => s.user.role === 'admin';
