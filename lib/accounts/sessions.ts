import { createHash, randomBytes } from 'node:crypto';
import { and, count, eq, gt, isNull, or } from 'drizzle-orm';
import { loginAttempts, sessions, users } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import type { User } from './users.ts';

export const SESSION_TTL_MS = 12 * 3600_000;
const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A random bearer token; only its hash is stored. */
export async function createSession(tx: Tx, userId: string, clock: Clock): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(clock.now() + SESSION_TTL_MS);
  await tx.insert(sessions).values({ userId, tokenHash: tokenHash(token), expiresAt });
  return { token, expiresAt };
}

export async function resolveSession(db: Db, token: string, clock: Clock): Promise<{ user: User; sessionId: string } | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const [row] = await db
    .select({ user: users, sessionId: sessions.id })
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

/** Login throttling: at most MAX_FAILURES failed attempts per email or per client address in the window. */
export const THROTTLE = { windowMs: 15 * 60_000, maxFailures: 5 } as const;

export async function isThrottled(db: Db | Tx, email: string, ip: string, clock: Clock): Promise<boolean> {
  const since = new Date(clock.now() - THROTTLE.windowMs);
  const [r] = await db
    .select({ n: count() })
    .from(loginAttempts)
    .where(and(gt(loginAttempts.at, since), or(eq(loginAttempts.email, email.toLowerCase()), eq(loginAttempts.ip, ip))));
  return (r?.n ?? 0) >= THROTTLE.maxFailures;
}

export async function recordFailedLogin(db: Db | Tx, email: string, ip: string, clock: Clock): Promise<void> {
  await db.insert(loginAttempts).values({ email: email.toLowerCase(), ip, at: new Date(clock.now()) });
}
