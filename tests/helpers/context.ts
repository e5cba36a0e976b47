import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import type { AppContext } from '../../lib/context.ts';
import type { Db } from '../../lib/db/client.ts';
import { createLogger } from '../../lib/log.ts';
import type { QueueClient } from '../../lib/queue/client.ts';

/** A function context over a test database, a virtual clock and a silent logger. */
export function testContext(db: Db, queue: QueueClient, overrides: Partial<AppContext> = {}): AppContext {
  return {
    config: parseConfig({ AETHER_HOME: '/nonexistent' }),
    db,
    queue,
    logger: createLogger('silent'),
    clock: new VirtualClock(Date.parse('2026-01-05T12:00:00Z')),
    masterKey: randomBytes(32),
    timescale: false,
    version: 'test',
    ...overrides,
  };
}
