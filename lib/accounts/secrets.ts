import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Secrets at rest: AES-256-GCM under the master key, `v2:<iv>:<tag>:<ciphertext>` (base64 each), with
 * the row the value belongs to as associated data — so a sealed value copied into another row (another
 * account's key, another user's TOTP secret) does not open. The GCM tag is always the full 16 bytes:
 * a shorter tag would let a forger try far fewer guesses.
 *
 * `v1` values (written before associated data was bound) open only through `resealLegacy`, which the
 * start-up step `resealLegacySecrets` (reseal.ts) runs once over every stored value.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedSecretError extends Error {
  override name = 'SealedSecretError';
}

/** The associated data of each kind of sealed column: the row it belongs to. */
export const sealedAad = {
  /** An account's Kraken key (credentials row). */
  credentials: (accountId: string, credentialId: string): string => `credentials:${accountId}:${credentialId}`,
  /** A user's TOTP secret. */
  totp: (userId: string): string => `users.totp:${userId}`,
};

export function encryptSecret(masterKey: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v2', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
}

export function decryptSecret(masterKey: Buffer, sealed: string, aad: string): string {
  const parts = parse(sealed);
  if (parts.version === 'v1') throw new SealedSecretError('a sealed secret in the old format (v1, no associated data): start the api once to re-seal it');
  return open(masterKey, parts, aad);
}

/** True for a value sealed before associated data was bound (v1). */
export const isLegacySealed = (sealed: string): boolean => sealed.startsWith('v1:');

/** Opens a v1 value (no associated data) and seals it again as v2 bound to `aad`. */
export function resealLegacy(masterKey: Buffer, sealed: string, aad: string): string {
  const parts = parse(sealed);
  if (parts.version !== 'v1') throw new SealedSecretError('not a v1 sealed secret');
  return encryptSecret(masterKey, open(masterKey, parts, null), aad);
}

interface Parts {
  version: 'v1' | 'v2';
  iv: Buffer;
  tag: Buffer;
  ct: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parse(sealed: string): Parts {
  const fields = sealed.split(':');
  const [version, iv, tag, ct] = fields;
  if (fields.length !== 4 || (version !== 'v1' && version !== 'v2') || ![iv, tag, ct].every((f) => f !== undefined && BASE64.test(f)))
    throw new SealedSecretError('not an Aether sealed secret');
  const parts = { version, iv: Buffer.from(iv!, 'base64'), tag: Buffer.from(tag!, 'base64'), ct: Buffer.from(ct!, 'base64') } as const;
  if (parts.iv.length !== IV_BYTES) throw new SealedSecretError(`sealed secret: the IV must be ${IV_BYTES} bytes`);
  if (parts.tag.length !== TAG_BYTES) throw new SealedSecretError(`sealed secret: the authentication tag must be ${TAG_BYTES} bytes, not ${parts.tag.length}`);
  return parts;
}

function open(masterKey: Buffer, p: Parts, aad: string | null): string {
  const decipher = createDecipheriv('aes-256-gcm', masterKey, p.iv, { authTagLength: TAG_BYTES });
  if (aad !== null) decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(p.tag);
  try {
    return Buffer.concat([decipher.update(p.ct), decipher.final()]).toString('utf8');
  } catch {
    // Node's message ("Unsupported state or unable to authenticate data") names no cause worth more.
    throw new SealedSecretError('sealed secret does not open: wrong master key, tampered, or sealed for another row');
  }
}

/** What may be shown of a key: a short fingerprint and its last four characters. */
export const fingerprint = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 16);
export const last4 = (key: string): string => key.slice(-4);

/**
 * The embedded runtime's master key: AETHER_MASTER_KEY when set, otherwise $AETHER_HOME/master.key,
 * generated with 0600 permissions on first start.
 */
export function loadMasterKey(home: string, fromEnv: string | undefined): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'base64');
  const file = join(home, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
  return key;
}
