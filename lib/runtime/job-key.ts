import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { JOB_KEY_BYTES, parseJobKey } from '../http/job-signature.ts';

export class JobKeyError extends Error {
  override name = 'JobKeyError';
}

/** Where the embedded runtime keeps its job key (and where `bench live` reads it). */
export const jobKeyFile = (home: string): string => join(home, 'job.key');

/**
 * The key that signs job calls: AETHER_JOB_KEY (or the mounted aether-job-key secret, read into it
 * by config.ts). In Kubernetes it must come from there — every function and the dispatcher share the
 * Secret. Elsewhere it is $AETHER_HOME/job.key, generated with 0600 permissions on first start, so
 * `npm start` needs no configuration and processes on one AETHER_HOME agree.
 */
export function loadJobKey(config: Config): Buffer {
  if (config.AETHER_JOB_KEY) return parseJobKey(config.AETHER_JOB_KEY, 'AETHER_JOB_KEY');
  if (config.KUBERNETES_SERVICE_HOST) throw new JobKeyError(`AETHER_JOB_KEY is unset and ${join(config.SECRETS_DIR, 'aether-job-key')} does not exist: the cluster needs the aether-job-key secret`);
  const file = jobKeyFile(config.AETHER_HOME);
  if (!existsSync(file)) {
    mkdirSync(config.AETHER_HOME, { recursive: true });
    try {
      writeFileSync(file, randomBytes(JOB_KEY_BYTES).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first: use theirs
    }
  }
  if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  return parseJobKey(readFileSync(file, 'utf8'), file);
}
