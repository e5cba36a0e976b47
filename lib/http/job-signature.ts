import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of job calls (queue → function, cron → function): HMAC-SHA256 under the job key over
 * the method, the function's path, the timestamp, a random nonce and the exact body bytes. Pure: no
 * clock, no I/O. The nonce makes two honest calls with one body in one millisecond (a retry under a
 * test's frozen clock) distinct, so only a true replay repeats a signature.
 *
 * The path is the function's gateway path (`/function/<name>`), whatever the gateway forwards, so a
 * call signed for one function is never accepted by another.
 */
export const TIMESTAMP_HEADER = 'x-aether-timestamp';
export const SIGNATURE_HEADER = 'x-aether-signature';
export const NONCE_HEADER = 'x-aether-nonce';

/** A signed call is accepted while its timestamp is within this much of the verifier's wall clock. */
export const SIGNATURE_WINDOW_MS = 60_000;

/** The job key: 32 random bytes, base64 (a Kubernetes Secret in the cluster, a file in AETHER_HOME). */
export const JOB_KEY_BYTES = 32;

export interface SignedParts {
  method: string;
  path: string;
  timestamp: number;
  nonce: string;
  body: string;
}

const TIMESTAMP = /^\d{1,15}$/;
const NONCE = /^[0-9a-f]{32}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

export const jobFunctionPath = (fn: string): string => `/function/${fn}`;

function mac(key: Buffer, p: SignedParts): Buffer {
  // Newlines separate fields that cannot contain one (method, path, digits); the body comes last, verbatim.
  return createHmac('sha256', key).update(`aether-job-v1\n${p.method.toUpperCase()}\n${p.path}\n${p.timestamp}\n${p.nonce}\n`).update(p.body).digest();
}

type CallParts = Omit<SignedParts, 'timestamp' | 'nonce'>;

/** The headers that sign one call, at `now` (the caller's wall clock). */
export function signJob(key: Buffer, p: CallParts, now: number, nonce = randomBytes(16).toString('hex')): Record<string, string> {
  const timestamp = Math.floor(now);
  return { [TIMESTAMP_HEADER]: String(timestamp), [NONCE_HEADER]: nonce, [SIGNATURE_HEADER]: mac(key, { ...p, timestamp, nonce }).toString('hex') };
}

export type Verdict =
  | { ok: true; signature: string; timestamp: number }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'outside-window' | 'bad-signature' };

/**
 * Checks a call's headers against its method, path and body at `now`: present, well formed, within
 * ±SIGNATURE_WINDOW_MS, and an HMAC that matches (compared in constant time). Replays inside the
 * window pass here; the caller remembers accepted signatures (job-replay.ts).
 */
export function verifyJob(
  key: Buffer,
  p: CallParts,
  headers: { timestamp: string | undefined; nonce: string | undefined; signature: string | undefined },
  now: number,
  windowMs = SIGNATURE_WINDOW_MS,
): Verdict {
  if (headers.timestamp === undefined || headers.nonce === undefined || headers.signature === undefined) return { ok: false, reason: 'unsigned' };
  if (!TIMESTAMP.test(headers.timestamp) || !NONCE.test(headers.nonce) || !SIGNATURE.test(headers.signature)) return { ok: false, reason: 'malformed' };
  const timestamp = Number(headers.timestamp);
  if (Math.abs(now - timestamp) > windowMs) return { ok: false, reason: 'outside-window' };
  const expected = mac(key, { ...p, timestamp, nonce: headers.nonce });
  if (!timingSafeEqual(expected, Buffer.from(headers.signature, 'hex'))) return { ok: false, reason: 'bad-signature' };
  return { ok: true, signature: headers.signature, timestamp };
}

/** Parses a base64 job key; throws naming `source` when it is not 32 bytes. */
export function parseJobKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== JOB_KEY_BYTES) throw new Error(`${source} does not hold a base64 ${JOB_KEY_BYTES}-byte job key`);
  return key;
}
