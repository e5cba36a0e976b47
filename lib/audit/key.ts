import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';

/**
 * The audit key: the HMAC key of the audit chain. It lives outside the database, so someone who can
 * write the database but not read the key cannot rewrite the chain so that it still verifies.
 */
export const AUDIT_KEY_BYTES = 32;
export const AUDIT_KEY_FILE = 'audit.key';

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

/** The settings the key comes from (lib/config.ts). */
export type AuditKeyConfig = Pick<Config, 'mode' | 'AETHER_HOME' | 'AETHER_AUDIT_KEY'>;

function decode(b64: string, where: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== AUDIT_KEY_BYTES) throw new AuditKeyError(`${where} does not hold a base64 ${AUDIT_KEY_BYTES}-byte key`);
  return key;
}

/**
 * The key for appending: AETHER_AUDIT_KEY (set, or read by config from the aether-audit-key secret
 * file); otherwise, embedded, $AETHER_HOME/audit.key, generated (0600) on first start. A cluster
 * process never makes its own key: one key per pod would split the chain into pieces no verifier
 * can check.
 */
export function loadAuditKey(config: AuditKeyConfig): Buffer {
  const key = findAuditKey(config);
  if (key) return key;
  if (config.mode === 'cluster') throw new AuditKeyError('AETHER_AUDIT_KEY is unset and there is no aether-audit-key secret: the cluster needs one audit key shared by every function');
  mkdirSync(config.AETHER_HOME, { recursive: true });
  try {
    writeFileSync(join(config.AETHER_HOME, AUDIT_KEY_FILE), randomBytes(AUDIT_KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: use theirs
  }
  return findAuditKey(config)!;
}

/** The key for verifying: as loadAuditKey, but never generated (null when there is none yet). */
export function findAuditKey(config: AuditKeyConfig): Buffer | null {
  if (config.AETHER_AUDIT_KEY) return decode(config.AETHER_AUDIT_KEY, 'AETHER_AUDIT_KEY');
  if (config.mode === 'cluster') return null;
  const file = join(config.AETHER_HOME, AUDIT_KEY_FILE);
  if (!existsSync(file)) return null;
  if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  return decode(readFileSync(file, 'utf8'), file);
}

// One key per process, set by the composition root (bin/services.ts): appendAudit is called from
// deep inside transactions all over the domain, and threading the key through each of them would
// put it in every signature for no gain — there is exactly one chain and one key.
let source: (() => Buffer) | null = null;
let loaded: Buffer | null = null;

/** The key this process signs audit rows with; a loader is called on the first append only. */
export function useAuditKey(key: Buffer | (() => Buffer)): void {
  loaded = typeof key === 'function' ? null : key;
  source = typeof key === 'function' ? key : null;
}

/** For a process that appends no audit rows: an append there fails closed instead of signing with nothing. */
export const withoutAuditKey = (): Buffer => {
  throw new AuditKeyError('this process holds no audit key: it is not meant to append audit rows');
};

export function auditKey(): Buffer {
  if (!loaded && source) loaded = source();
  if (!loaded) throw new AuditKeyError('no audit key is loaded in this process: the composition root calls useAuditKey');
  return loaded;
}
