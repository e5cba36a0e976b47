import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../lib/runtime/embedded-postgres.ts';
import { reachablePg } from '../helpers/postgres.ts';

/**
 * Real services for the integration tests: PostgreSQL from TEST_DATABASE_URL, else the local service
 * on 127.0.0.1:5432, else an embedded PostgreSQL started here; Redis from TEST_REDIS_URL, else
 * 127.0.0.1:6379. Under CI=true a missing Redis fails the run instead of skipping its tests.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    databaseSource: 'env' | 'local' | 'embedded';
    redisUrl: string | null;
  }
}


async function reachableRedis(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

let embedded: EmbeddedDatabase | null = null;
let embeddedHome: string | null = null;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ci = process.env.CI === 'true';
  let url = process.env.TEST_DATABASE_URL;
  let source: 'env' | 'local' | 'embedded' = 'env';
  const forceEmbedded = process.env.TEST_DATABASE === 'embedded'; // run as a machine without PostgreSQL would
  if (url) {
    if (!(await reachablePg(url))) throw new Error(`TEST_DATABASE_URL ${url} is unreachable`);
  } else if (!forceEmbedded && (await reachablePg('postgres://postgres@127.0.0.1:5432/postgres'))) {
    url = 'postgres://postgres@127.0.0.1:5432/postgres';
    source = 'local';
  } else {
    embeddedHome = mkdtempSync(join(tmpdir(), 'aether-test-pg-'));
    embedded = await startEmbeddedPostgres(embeddedHome, (m) => console.warn(m));
    url = embedded.url.replace(/\/aether$/, '/postgres');
    source = 'embedded';
  }
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisOk = await reachableRedis(redisUrl);
  if (!redisOk && (ci || process.env.TEST_REDIS_URL)) throw new Error(`Redis at ${redisUrl} is unreachable (CI=true or TEST_REDIS_URL set: Redis tests must run)`);
  if (!redisOk) console.warn(`Redis at ${redisUrl} is unreachable: Redis tests are skipped (they fail under CI=true)`);
  console.log(`test services: PostgreSQL ${source} (${url.replace(/:[^:@/]*@/, ':***@')}), Redis ${redisOk ? redisUrl : 'none'}`);
  project.provide('adminDatabaseUrl', url);
  project.provide('databaseSource', source);
  project.provide('redisUrl', redisOk ? redisUrl : null);
  return async () => {
    await embedded?.stop();
    if (embeddedHome) rmSync(embeddedHome, { recursive: true, force: true });
  };
}
