import { randomBytes } from 'node:crypto';
import { EncryptedSecretStore } from '../../lib/accounts/credentials.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import type { Db } from '../../lib/db/client.ts';
import { createLogger } from '../../lib/log.ts';
import type { QueueClient } from '../../lib/queue/client.ts';

/** The job key of every test context (unless overridden): tests sign job calls with it. */
export const TEST_JOB_KEY = Buffer.alloc(32, 7);

/** A function context over a test database, a virtual clock and a silent logger. */
export function testContext(db: Db, queue: QueueClient, overrides: Partial<AppContext> = {}): AppContext {
  const masterKey = overrides.masterKey ?? randomBytes(32);
  return {
    config: parseConfig({ AETHER_HOME: '/nonexistent' }),
    db,
    queue,
    logger: createLogger('silent'),
    clock: new VirtualClock(Date.parse('2026-01-05T12:00:00Z')),
    masterKey,
    jobKey: TEST_JOB_KEY,
    timescale: false,
    version: 'test',
    secretStore: new EncryptedSecretStore(masterKey),
    checkCredentials: () => Promise.reject(new Error('this test context reaches no Kraken: pass checkCredentials')),
    ...overrides,
  };
}
