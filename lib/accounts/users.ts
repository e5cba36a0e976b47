import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, or } from 'drizzle-orm';
import { z } from 'zod';
import { accounts, memberships, users } from '../../schema/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Clock } from '../clock.ts';
import type { Db, Tx } from '../db/client.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { decryptSecret, encryptSecret, sealedAad } from './secrets.ts';
import { revokeUserSessions } from './sessions.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

export type Role = 'admin' | 'viewer';
export type User = typeof users.$inferSelect;
/** What leaves the service: never the password hash or the TOTP secret. */
export type PublicUser = Pick<User, 'id' | 'email' | 'name' | 'role' | 'createdAt' | 'mustChangePassword'> & {
  totpEnrolled: boolean;
  disabled: boolean;
  invitePending: boolean;
};

export const publicUser = (u: User): PublicUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  createdAt: u.createdAt,
  totpEnrolled: u.totpSecretEnc !== null,
  mustChangePassword: u.mustChangePassword,
  disabled: u.disabledAt !== null,
  invitePending: u.passwordHash === null,
});

/**
 * What a user must do before anything else: change a password an admin reset, or (an admin) enrol a
 * second factor — after an invite or an admin's reset of the enrolment.
 */
export type Obligation = 'PASSWORD_CHANGE_REQUIRED' | 'TOTP_ENROLMENT_REQUIRED';
export function obligationsOf(u: Pick<User, 'role' | 'mustChangePassword' | 'totpSecretEnc'>): Obligation[] {
  const owed: Obligation[] = [];
  if (u.mustChangePassword) owed.push('PASSWORD_CHANGE_REQUIRED');
  if (u.role === 'admin' && u.totpSecretEnc === null) owed.push('TOTP_ENROLMENT_REQUIRED');
  return owed;
}

/** TOTP secrets are sealed under the master key, bound to their user (the only two places that do it). */
export const sealTotp = (masterKey: Buffer, userId: string, secret: string): string => encryptSecret(masterKey, secret, sealedAad.totp(userId));
export const openTotp = (masterKey: Buffer, userId: string, sealed: string): string => decryptSecret(masterKey, sealed, sealedAad.totp(userId));

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
  const id = randomUUID(); // known before the insert: the sealed TOTP secret is bound to it
  const [row] = await tx
    .insert(users)
    .values({
      id,
      email: v.email,
      name: v.name,
      role: v.role,
      passwordHash: await hashPassword(v.password),
      totpSecretEnc: totpSecret ? sealTotp(ctx.masterKey, id, totpSecret) : null,
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

export class UserNotFoundError extends Error {
  override name = 'UserNotFoundError';
}
/** A change the rules refuse (the last admin, a viewer-only edit on an admin, …); `code` names the rule. */
export class UserRuleError extends Error {
  override name = 'UserRuleError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Actor {
  actor: string;
  clock: Clock;
}

async function lockedUser(tx: Tx, id: string): Promise<User> {
  const [u] = await tx.select().from(users).where(eq(users.id, id)).for('update');
  if (!u) throw new UserNotFoundError(`no user ${id}`);
  return u;
}

/**
 * A TOTP code of `secret` that has not been used: its time step, claimed for the user in the same
 * statement (of two requests with one code, only one wins). Null: wrong, stale or already used.
 */
export async function claimTotp(tx: Tx, userId: string, secret: string, code: string, clock: Clock): Promise<number | null> {
  const step = checkTotp(secret, code, Math.floor(clock.now() / 1000));
  if (step === null) return null;
  const claimed = await tx
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id });
  return claimed.length === 1 ? step : null;
}

export const INVITE_TTL_MS = 72 * 3600_000;
const digest = (t: string): string => createHash('sha256').update(t).digest('hex');

/**
 * Invites an admin: no password and no second factor yet — the invitee sets the password with the
 * single-use token (stored as its hash, valid 72 hours) and enrols TOTP at first login, so the
 * inviting admin never knows either.
 */
export async function inviteAdmin(
  tx: Tx,
  input: { email: string; name: string },
  ctx: Actor,
): Promise<{ user: PublicUser; inviteToken: string; expiresAt: Date }> {
  const token = randomBytes(24).toString('base64url');
  const expiresAt = new Date(ctx.clock.now() + INVITE_TTL_MS);
  const email = input.email.toLowerCase();
  const [row] = await tx
    .insert(users)
    .values({ email, name: input.name, role: 'admin', passwordHash: null, inviteTokenHash: digest(token), inviteExpiresAt: expiresAt })
    .onConflictDoNothing({ target: users.email })
    .returning();
  if (!row) throw new UserExistsError(`a user with email ${email} already exists`);
  await appendAudit(tx, { action: 'user.invite', userId: ctx.actor, details: { user: row.id, email, role: 'admin', expiresAt: expiresAt.toISOString() } }, ctx.clock);
  return { user: publicUser(row), inviteToken: token, expiresAt };
}

/** Sets the invitee's password and spends the token; null when the token is unknown, used or expired. */
export async function acceptInvite(tx: Tx, token: string, password: string, clock: Clock): Promise<PublicUser | null> {
  const [row] = await tx
    .update(users)
    .set({ passwordHash: await hashPassword(password), inviteTokenHash: null, inviteExpiresAt: null })
    .where(and(eq(users.inviteTokenHash, digest(token)), gt(users.inviteExpiresAt, new Date(clock.now())), isNull(users.disabledAt)))
    .returning();
  if (!row) return null;
  await appendAudit(tx, { action: 'user.invite_accept', userId: row.id, details: { user: row.id } }, clock);
  return publicUser(row);
}

/**
 * Disables (every session ends, login refused) or enables a user. The last enabled admin who can log
 * in cannot be disabled: the enabled admins are locked first, so two admins disabling each other at
 * once cannot both succeed.
 */
export async function setDisabled(tx: Tx, id: string, disabled: boolean, ctx: Actor): Promise<PublicUser> {
  if (disabled) {
    const admins = await tx
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, 'admin'), isNull(users.disabledAt), isNotNull(users.passwordHash)))
      .orderBy(asc(users.id))
      .for('update');
    if (admins.length === 1 && admins[0]!.id === id) throw new UserRuleError('LAST_ADMIN', 'the last enabled admin cannot be disabled');
  }
  const before = await lockedUser(tx, id);
  if ((before.disabledAt !== null) === disabled) return publicUser(before); // already so: nothing changes, nothing to audit
  const [row] = await tx
    .update(users)
    .set({ disabledAt: disabled ? new Date(ctx.clock.now()) : null })
    .where(eq(users.id, id))
    .returning();
  const sessionsEnded = disabled ? await revokeUserSessions(tx, id, ctx.clock) : 0;
  await appendAudit(tx, { action: disabled ? 'user.disable' : 'user.enable', userId: ctx.actor, details: { user: id, email: before.email, sessionsEnded } }, ctx.clock);
  return publicUser(row!);
}

/** The user's own change (the current password already checked): ends their other sessions. */
export async function changePassword(tx: Tx, user: User, newPassword: string, keepSession: string, clock: Clock): Promise<number> {
  const current = await lockedUser(tx, user.id);
  if (current.passwordHash && (await verifyPassword(current.passwordHash, newPassword)))
    throw new UserRuleError('SAME_PASSWORD', 'the new password must differ from the current one');
  await tx.update(users).set({ passwordHash: await hashPassword(newPassword), mustChangePassword: false }).where(eq(users.id, user.id));
  const sessionsEnded = await revokeUserSessions(tx, user.id, clock, keepSession);
  await appendAudit(tx, { action: 'user.password_change', userId: user.id, details: { user: user.id, sessionsEnded } }, clock);
  return sessionsEnded;
}

/** An admin sets a temporary password for someone else: all their sessions end and they must change it at next login. */
export async function resetPassword(tx: Tx, id: string, temporary: string, ctx: Actor): Promise<PublicUser> {
  if (id === ctx.actor) throw new UserRuleError('OWN_ACCOUNT', 'change your own password with POST /me/password');
  const before = await lockedUser(tx, id);
  if (before.passwordHash === null) throw new UserRuleError('INVITE_PENDING', 'this admin has not accepted the invite yet');
  const [row] = await tx.update(users).set({ passwordHash: await hashPassword(temporary), mustChangePassword: true }).where(eq(users.id, id)).returning();
  const sessionsEnded = await revokeUserSessions(tx, id, ctx.clock);
  await appendAudit(tx, { action: 'user.password_reset', userId: ctx.actor, details: { user: id, email: before.email, sessionsEnded } }, ctx.clock);
  return publicUser(row!);
}

/** Ends a user's sessions (all of them, or all but `keep`), audited. */
export async function endSessions(tx: Tx, id: string, ctx: Actor, keep?: string): Promise<number> {
  const target = await lockedUser(tx, id);
  const sessionsEnded = await revokeUserSessions(tx, id, ctx.clock, keep);
  await appendAudit(tx, { action: 'user.sessions_revoke', userId: ctx.actor, details: { user: id, email: target.email, sessionsEnded, keptOwn: keep !== undefined } }, ctx.clock);
  return sessionsEnded;
}

/** Starts a (re-)enrolment: a new secret is held aside until a code from it confirms it; the old one stays in force. */
export async function startTotpEnrolment(tx: Tx, user: User, masterKey: Buffer, clock: Clock): Promise<string> {
  const secret = newTotpSecret();
  await tx.update(users).set({ totpPendingEnc: sealTotp(masterKey, user.id, secret) }).where(eq(users.id, user.id));
  await appendAudit(tx, { action: 'user.totp_enrol_start', userId: user.id, details: { user: user.id } }, clock);
  return totpUri(secret, user.email);
}

/** Confirms the pending secret with a code from it; it replaces the old one. Null: no pending secret or a wrong code. */
export async function confirmTotpEnrolment(tx: Tx, userId: string, code: string, masterKey: Buffer, clock: Clock): Promise<PublicUser | null> {
  const u = await lockedUser(tx, userId);
  if (!u.totpPendingEnc) return null;
  if ((await claimTotp(tx, u.id, openTotp(masterKey, u.id, u.totpPendingEnc), code, clock)) === null) return null;
  const [row] = await tx.update(users).set({ totpSecretEnc: u.totpPendingEnc, totpPendingEnc: null }).where(eq(users.id, u.id)).returning();
  await appendAudit(tx, { action: 'user.totp_enrol', userId: u.id, details: { user: u.id, replaced: u.totpSecretEnc !== null } }, clock);
  return publicUser(row!);
}

/** An admin clears someone's second factor (a lost phone): their sessions end and they enrol again at next login. */
export async function resetTotp(tx: Tx, id: string, ctx: Actor): Promise<PublicUser> {
  if (id === ctx.actor) throw new UserRuleError('OWN_ACCOUNT', 're-enrol your own second factor with POST /me/totp');
  const before = await lockedUser(tx, id);
  const [row] = await tx.update(users).set({ totpSecretEnc: null, totpPendingEnc: null }).where(eq(users.id, id)).returning();
  const sessionsEnded = await revokeUserSessions(tx, id, ctx.clock);
  await appendAudit(tx, { action: 'user.totp_reset', userId: ctx.actor, details: { user: id, email: before.email, sessionsEnded } }, ctx.clock);
  return publicUser(row!);
}

export class UnknownAccountError extends Error {
  override name = 'UnknownAccountError';
}

/**
 * The ids of accounts named by slug or id (a uuid-shaped ref is an id, as in findAccount), in order;
 * an error naming every ref that names no account.
 */
export async function accountIdsFor(db: Db | Tx, refs: readonly string[]): Promise<string[]> {
  if (!refs.length) return [];
  const isId = (r: string) => z.uuid().safeParse(r).success;
  const ids = refs.filter(isId);
  const slugs = refs.filter((r) => !isId(r));
  const rows = await db
    .select({ id: accounts.id, slug: accounts.slug })
    .from(accounts)
    .where(or(ids.length ? inArray(accounts.id, ids) : undefined, slugs.length ? inArray(accounts.slug, slugs) : undefined));
  const byRef = new Map(rows.flatMap((a) => [[a.id, a.id] as const, [a.slug, a.id] as const]));
  const unknown = refs.filter((r) => !byRef.has(isId(r) ? r.toLowerCase() : r));
  if (unknown.length) throw new UnknownAccountError(`no account ${unknown.join(', ')}`);
  return refs.map((r) => byRef.get(isId(r) ? r.toLowerCase() : r)!);
}

/** Viewers' accounts by user: their slugs, sorted (admins see every account and have none listed). */
export async function viewerAccounts(db: Db | Tx, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!userIds.length) return out;
  const rows = await db
    .select({ userId: memberships.userId, slug: accounts.slug })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.id, memberships.accountId))
    .where(inArray(memberships.userId, [...userIds]))
    .orderBy(asc(accounts.slug));
  for (const r of rows) out.set(r.userId, [...(out.get(r.userId) ?? []), r.slug]);
  return out;
}

/** Replaces a viewer's accounts. An unknown account id violates the foreign key (the caller maps it). */
export async function setMemberships(tx: Tx, id: string, accountIds: string[], ctx: Actor): Promise<string[]> {
  const target = await lockedUser(tx, id);
  if (target.role !== 'viewer') throw new UserRuleError('NOT_A_VIEWER', 'admins see every account; memberships are for viewers');
  const before = (await tx.select({ a: memberships.accountId }).from(memberships).where(eq(memberships.userId, id))).map((r) => r.a).sort();
  const after = [...new Set(accountIds)].sort();
  if (before.join() === after.join()) return after; // the same set: no change, no audit row
  await tx.delete(memberships).where(eq(memberships.userId, id));
  if (after.length) await tx.insert(memberships).values(after.map((accountId) => ({ userId: id, accountId, role: 'viewer' as const })));
  await appendAudit(tx, { action: 'user.memberships', userId: ctx.actor, details: { user: id, email: target.email, before, after } }, ctx.clock);
  return after;
}
