import { createHash, randomBytes } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
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

/** Consumes the token inside the transaction that creates the first admin; false if unknown or used. */
export async function consumeOnboardingToken(tx: Tx, token: string, clock: Clock): Promise<boolean> {
  const used = await tx
    .update(onboardingTokens)
    .set({ usedAt: new Date(clock.now()) })
    .where(and(eq(onboardingTokens.tokenHash, digest(token)), isNull(onboardingTokens.usedAt)))
    .returning({ id: onboardingTokens.id });
  return used.length === 1;
}
