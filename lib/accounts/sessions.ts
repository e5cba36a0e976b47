import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, ne } from 'drizzle-orm';
import { sessions, users } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import type { User } from './users.ts';

export const SESSION_TTL_MS = 12 * 3600_000;
/** How long a fresh TOTP code (at login or POST /auth/step-up) lets a session take step-up actions. */
export const STEP_UP_TTL_MS = 5 * 60_000;
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A random bearer token; only its hash is stored. `steppedUp`: the login just checked a TOTP code. */
export async function createSession(tx: Tx, userId: string, clock: Clock, steppedUp = false): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(clock.now() + SESSION_TTL_MS);
  const stepUpUntil = steppedUp ? new Date(clock.now() + STEP_UP_TTL_MS) : null;
  await tx.insert(sessions).values({ userId, tokenHash: tokenHash(token), expiresAt, stepUpUntil });
  return { token, expiresAt };
}

export interface LiveSession {
  user: User;
  sessionId: string;
  stepUpUntil: Date | null;
}

export async function resolveSession(db: Db, token: string, clock: Clock): Promise<LiveSession | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const [row] = await db
    .select({ user: users, sessionId: sessions.id, stepUpUntil: sessions.stepUpUntil })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(eq(sessions.tokenHash, tokenHash(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date(clock.now())), isNull(users.disabledAt)),
    )
    .limit(1);
  return row ?? null;
}

export async function revokeSession(tx: Tx, sessionId: string, clock: Clock): Promise<void> {
  await tx.update(sessions).set({ revokedAt: new Date(clock.now()) }).where(eq(sessions.id, sessionId));
}

/** Ends every live session of a user except `keep` (the caller's own); returns how many ended. */
export async function revokeUserSessions(tx: Tx, userId: string, clock: Clock, keep?: string): Promise<number> {
  const ended = await tx
    .update(sessions)
    .set({ revokedAt: new Date(clock.now()) })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date(clock.now())), keep ? ne(sessions.id, keep) : undefined))
    .returning({ id: sessions.id });
  return ended.length;
}

/** Opens the step-up window of a session (after a fresh TOTP code). */
export async function openStepUp(tx: Tx, sessionId: string, clock: Clock): Promise<Date> {
  const until = new Date(clock.now() + STEP_UP_TTL_MS);
  await tx.update(sessions).set({ stepUpUntil: until }).where(eq(sessions.id, sessionId));
  return until;
}
