import { inArray, sql } from 'drizzle-orm';
import { loginThrottle } from '../../schema/index.ts';
import type { Clock } from '../clock.ts';
import type { Tx } from '../db/client.ts';

/**
 * Login backoff per email and per client address. A few failures are free, then each failure doubles
 * the wait before the next attempt, up to a cap; a quiet hour forgets them. Attempts during a wait
 * are refused without looking at the password and do not lengthen it, so whoever knows the password
 * waits at most the current backoff — never a lockout an attacker can extend at will. The email cap
 * is short (someone else's failures must not keep a director out of the emergency controls for long);
 * the address cap is long (one address spraying many emails).
 */
export const BACKOFF = {
  freeFailures: 3,
  baseMs: 1_000,
  capMs: { email: 60_000, ip: 15 * 60_000 },
  forgetAfterMs: 3600_000,
} as const;

export type ThrottleKind = keyof typeof BACKOFF.capMs;

/** The wait after `failures` consecutive failures on a key of this kind. */
export function backoffMs(failures: number, kind: ThrottleKind): number {
  const over = failures - BACKOFF.freeFailures;
  return over <= 0 ? 0 : Math.min(BACKOFF.capMs[kind], BACKOFF.baseMs * 2 ** (over - 1));
}

/** The two keys one attempt counts against. */
export interface ThrottleKeys {
  email: string;
  ip: string;
}
export const throttleKeys = (email: string, ip: string): ThrottleKeys => ({ email: `email:${email.toLowerCase()}`, ip: `ip:${ip}` });
const kindOf = (key: string): ThrottleKind => (key.startsWith('email:') ? 'email' : 'ip');

// Two-key advisory locks: a namespace of their own, apart from the single-key locks elsewhere.
const THROTTLE_LOCK_NS = 0x6c6f67; // "log"

/**
 * Takes the keys' locks for the rest of the transaction (in key order, so two attempts never
 * deadlock) and returns until when they are blocked (null: not blocked). Concurrent attempts on a key
 * queue behind each other, so each sees the failures of the one before: checking and recording are
 * one step, and a burst of parallel guesses gets no more tries than a sequence.
 */
export async function enterThrottle(tx: Tx, keys: string[], clock: Clock): Promise<Date | null> {
  const sorted = [...new Set(keys)].sort();
  for (const k of sorted) await tx.execute(sql`select pg_advisory_xact_lock(${THROTTLE_LOCK_NS}, hashtext(${k}))`);
  const rows = await tx.select({ blockedUntil: loginThrottle.blockedUntil }).from(loginThrottle).where(inArray(loginThrottle.key, sorted));
  const until = Math.max(0, ...rows.map((r) => r.blockedUntil.getTime()));
  return until > clock.now() ? new Date(until) : null;
}

/**
 * Counts a failure on each key (inside the transaction that entered the throttle), and drops the
 * keys whose failures are forgotten, so addresses and emails tried once do not pile up.
 */
export async function recordFailure(tx: Tx, keys: string[], clock: Clock): Promise<void> {
  const now = clock.now();
  // A bounded purge that skips rows another attempt holds: it never waits, so it never deadlocks.
  await tx.execute(sql`delete from login_throttle where key in (
    select key from login_throttle where last_failure_at < ${new Date(now - BACKOFF.forgetAfterMs).toISOString()} limit 100 for update skip locked)`);
  const rows = await tx.select().from(loginThrottle).where(inArray(loginThrottle.key, keys));
  for (const key of keys) {
    const prev = rows.find((r) => r.key === key);
    const failures = prev && now - prev.lastFailureAt.getTime() < BACKOFF.forgetAfterMs ? prev.failures + 1 : 1;
    const values = { failures, lastFailureAt: new Date(now), blockedUntil: new Date(now + backoffMs(failures, kindOf(key))) };
    await tx.insert(loginThrottle).values({ key, ...values }).onConflictDoUpdate({ target: loginThrottle.key, set: values });
  }
}

/** A success clears the email's failures (the address keeps its own: it may be guessing others). */
export async function clearFailures(tx: Tx, keys: string[]): Promise<void> {
  if (keys.length) await tx.delete(loginThrottle).where(inArray(loginThrottle.key, keys));
}
