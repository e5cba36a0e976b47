import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { memberships, users } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { hashPassword } from './passwords.ts';
import { encryptSecret } from './secrets.ts';
import { newTotpSecret, totpUri } from './totp.ts';

export type Role = 'admin' | 'viewer';
export type User = typeof users.$inferSelect;
/** What leaves the service: never the password hash or the TOTP secret. */
export type PublicUser = Pick<User, 'id' | 'email' | 'name' | 'role' | 'createdAt'> & { totpEnrolled: boolean };

export const publicUser = (u: User): PublicUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt,
  totpEnrolled: u.totpSecretEnc !== null,
});

export const passwordSchema = z.string().min(12, 'at least 12 characters').max(256);
export const userInputSchema = z
  .object({
    email: z.email().max(254).transform((e) => e.toLowerCase()),
    name: z.string().trim().min(1).max(100),
    role: z.enum(['admin', 'viewer']),
    password: passwordSchema,
    /** Viewer memberships (account ids); admins see every account. */
    accountIds: z.array(z.uuid()).max(100).default([]),
  })
  .strict();
export type UserInput = z.input<typeof userInputSchema>;

export class UserExistsError extends Error {
  override name = 'UserExistsError';
}

/**
 * Creates a user. Admins always get a TOTP secret (the second factor is required for them); the
 * otpauth URI is returned once, for enrolment, and only its encrypted form is stored.
 */
export async function createUser(
  tx: Tx,
  input: UserInput,
  ctx: { actor: string | null; masterKey: Buffer; clock: Clock; withTotp?: boolean },
): Promise<{ user: PublicUser; totpSecret: string | null; totpUri: string | null }> {
  const v = userInputSchema.parse(input);
  const totpSecret = v.role === 'admin' || ctx.withTotp ? newTotpSecret() : null;
  const [row] = await tx
    .insert(users)
    .values({
      email: v.email,
      name: v.name,
      role: v.role,
      passwordHash: await hashPassword(v.password),
      totpSecretEnc: totpSecret ? encryptSecret(ctx.masterKey, totpSecret) : null,
    })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (!row) throw new UserExistsError(`a user with email ${v.email} already exists`);
  if (v.accountIds.length)
    await tx.insert(memberships).values(v.accountIds.map((accountId) => ({ userId: row.id, accountId, role: 'viewer' as const })));
  await appendAudit(
    tx,
    { action: 'user.create', userId: ctx.actor, details: { user: row.id, email: v.email, role: v.role, accounts: v.accountIds } },
    ctx.clock,
  );
  return { user: publicUser(row), totpSecret, totpUri: totpSecret ? totpUri(totpSecret, v.email) : null };
}

export const listUsers = async (db: Db | Tx): Promise<PublicUser[]> =>
  (await db.select().from(users).orderBy(asc(users.createdAt))).map(publicUser);

export async function findUserByEmail(db: Db | Tx, email: string): Promise<User | null> {
  const [u] = await db.select().from(users).where(eq(users.email, email.toLowerCase())).limit(1);
  return u ?? null;
}

export async function countUsers(db: Db | Tx): Promise<number> {
  return (await db.select({ id: users.id }).from(users).limit(1)).length;
}

/** The user's role on an account: admins manage every account, viewers only their memberships. */
export async function roleOn(db: Db | Tx, user: Pick<User, 'id' | 'role'>, accountId: string): Promise<Role | null> {
  if (user.role === 'admin') return 'admin';
  const [m] = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, user.id), eq(memberships.accountId, accountId)))
    .limit(1);
  return m?.role ?? null;
}

export async function accountIdsOf(db: Db | Tx, user: Pick<User, 'id' | 'role'>): Promise<string[] | 'all'> {
  if (user.role === 'admin') return 'all';
  const rows = await db.select({ accountId: memberships.accountId }).from(memberships).where(eq(memberships.userId, user.id));
  return rows.map((r) => r.accountId);
}
