import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { onboardingTokens } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { countUsers } from './users.ts';

const digest = (t: string): string => createHash('sha256').update(t).digest('hex');

/** On a first start with no users, a fresh one-time token (printed once, stored hashed). */
export async function issueOnboardingToken(db: Db): Promise<string | null> {
  if ((await countUsers(db)) > 0) return null;
  const token = randomBytes(24).toString('base64url');
  await db.insert(onboardingTokens).values({ tokenHash: digest(token) });
  return token;
}

const ONBOARDING_LOCK = 0x6f6e6272; // "onbr"

/**
 * Serialises first-admin creation for the rest of the transaction: two valid tokens used at once must
 * not both see "no users yet". Take it before counting users.
 */
export async function lockOnboarding(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ONBOARDING_LOCK})`);
}

/** Consumes the token inside the transaction that creates the first admin; false if unknown or used. */
export async function consumeOnboardingToken(tx: Tx, token: string, clock: Clock): Promise<boolean> {
  const used = await tx
    .update(onboardingTokens)
    .set({ usedAt: new Date(clock.now()) })
    .where(and(eq(onboardingTokens.tokenHash, digest(token)), isNull(onboardingTokens.usedAt)))
    .returning({ id: onboardingTokens.id });
  return used.length === 1;
}
