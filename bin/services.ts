import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OffsetFileClock, systemClock, type Clock } from '../lib/clock.ts';
import type { Config } from '../lib/config.ts';
import type { AppContext } from '../lib/context.ts';
import { hasTimescale, openDatabase, type Database } from '../lib/db/client.ts';
import { migrateDatabase } from '../lib/db/migrate.ts';
import { excessPrivileges, runtimePasswordOf, runtimeUrl, setRuntimePassword } from '../lib/db/runtime-role.ts';
import { EncryptedSecretStore } from '../lib/accounts/credentials.ts';
import { startSecretReconciler } from '../lib/accounts/kraken-secret-sync.ts';
import { KubernetesSecretStore } from '../lib/accounts/kubernetes-secrets.ts';
import { resealLegacySecrets } from '../lib/accounts/reseal.ts';
import { loadMasterKey } from '../lib/accounts/secrets.ts';
import { loadAuditKey, useAuditKey, withoutAuditKey } from '../lib/audit/key.ts';
import { checkKrakenCredentials } from '../lib/exchange/kraken-credentials.ts';
import { metricsTokenFor } from '../lib/http/metrics-token.ts';
import { createLogger, logConnectionError, type Logger } from '../lib/log.ts';
import { openQueueClient } from '../lib/queue/client.ts';
import { recordSystemEvents } from '../lib/system/events.ts';
import { embeddedRuntimePassword, runningEmbeddedUrl, startEmbeddedPostgres, type EmbeddedDatabase } from '../lib/runtime/embedded-postgres.ts';
import { loadJobKey } from '../lib/runtime/job-key.ts';
import { VERSION } from '../lib/version.ts';

/** The process's shared services: database (embedded or from the environment), queues, context. */
export interface Services {
  ctx: AppContext;
  database: Database;
  /** The runtime's URL (the least-privileged role wherever Aether can arrange it). */
  databaseUrl: string;
  embedded: EmbeddedDatabase | null;
  close(): Promise<void>;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

/** Where the database is, and who connects: the runtime's URL and the owner's (migrations only). */
export interface DatabaseUrls {
  /** The runtime: DATABASE_URL, or the embedded server's aether_runtime login. */
  url: string;
  /** The owner, for migrations (and BullMQ's own schema): AETHER_MIGRATE_DATABASE_URL, DATABASE_URL outside Kubernetes, the embedded superuser; null in a Kubernetes pod without it. */
  ownerUrl: string | null;
  /** The runtime role's password to (re)set after migrating: embedded, or taken from DATABASE_URL when a separate owner URL is given. */
  runtimePassword: string | null;
  embedded: EmbeddedDatabase | null;
}

/**
 * Where the database is: DATABASE_URL (cluster), the embedded server another `aether start` runs on
 * this AETHER_HOME (one-shot CLI commands join it), or a new embedded server (an explicit choice:
 * DATABASE_URL was left unset). A second long-running process on one AETHER_HOME is refused.
 *
 * Embedded, the runtime logs in as aether_runtime (password in $AETHER_HOME/pg.runtime.password) and
 * the superuser only migrates. With DATABASE_URL, that URL is the runtime's; migrations use
 * AETHER_MIGRATE_DATABASE_URL, or DATABASE_URL itself outside Kubernetes (a developer's database).
 */
export async function resolveDatabase(config: Config, log: Logger, joinRunning: boolean): Promise<DatabaseUrls> {
  if (config.DATABASE_URL) {
    const ownerUrl = config.AETHER_MIGRATE_DATABASE_URL ?? (config.KUBERNETES_SERVICE_HOST ? null : config.DATABASE_URL);
    const runtimePassword = config.AETHER_MIGRATE_DATABASE_URL ? runtimePasswordOf(config.DATABASE_URL) : null;
    return { url: config.DATABASE_URL, ownerUrl, runtimePassword, embedded: null };
  }
  const running = joinRunning ? runningEmbeddedUrl(config.AETHER_HOME) : null;
  const runtimePassword = embeddedRuntimePassword(config.AETHER_HOME);
  if (running) return { url: runtimeUrl(running, runtimePassword), ownerUrl: running, runtimePassword, embedded: null };
  log.info({ home: config.AETHER_HOME }, 'DATABASE_URL is unset: starting the embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres(config.AETHER_HOME, (m) => log.warn(m));
  return { url: runtimeUrl(embedded.url, runtimePassword), ownerUrl: embedded.url, runtimePassword, embedded };
}

/**
 * Applies the migrations as the owner, then gives the runtime role its password. Without an owner
 * URL (a Kubernetes pod: the migrate Job owns that) nothing is migrated here.
 */
export async function migrateAsOwner(urls: DatabaseUrls, driver: 'pg' | 'neon'): Promise<void> {
  if (!urls.ownerUrl) return;
  await migrateDatabase(urls.ownerUrl, driver);
  if (urls.runtimePassword) await setRuntimePassword(urls.ownerUrl, urls.runtimePassword);
}

/**
 * The runtime's connection must not be able to step around row-level security or the audit
 * triggers. In Kubernetes that is a start-up error; elsewhere (a developer's DATABASE_URL) a warning,
 * and the runtime still runs every query as aether_app.
 */
export async function checkLeastPrivilege(config: Config, database: Database, log: Logger): Promise<void> {
  const excess = await excessPrivileges(database.db);
  if (excess.length === 0) return;
  const why = `DATABASE_URL connects with more than the runtime needs (${excess.join('; ')}): connect as aether_runtime and give the owner's URL to migrations only (AETHER_MIGRATE_DATABASE_URL)`;
  if (config.KUBERNETES_SERVICE_HOST) throw new StartupError(why);
  log.warn(why);
}

/** Cluster: the key comes from the environment or the mounted secret; embedded: generated on first start. */
function masterKeyFor(config: Config, required = true): Buffer {
  if (config.mode === 'embedded' || config.AETHER_MASTER_KEY) return loadMasterKey(config.AETHER_HOME, config.AETHER_MASTER_KEY);
  const file = join(config.SECRETS_DIR, 'aether-master-key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (required) throw new StartupError(`AETHER_MASTER_KEY is unset and ${file} does not exist: the cluster needs the aether-master-key secret`);
  return NO_MASTER_KEY;
}

/**
 * In the cluster only the api holds the master key (TOTP secrets, a Kraken key on its way to its
 * Secret); the other functions and the dispatcher decrypt nothing and get this empty key instead,
 * which every cipher refuses ("Invalid key length") — a use where none was expected fails closed.
 */
const NO_MASTER_KEY = Buffer.alloc(0);

/** The wall clock: the system's, or — in a replay or benchmark — the system's plus the offset in AETHER_CLOCK_OFFSET_FILE. */
export function wallClock(config: Config, log: Logger): Clock {
  const file = config.AETHER_CLOCK_OFFSET_FILE;
  if (!file) return systemClock;
  const clock = new OffsetFileClock(file, (f) => {
    try {
      const st = statSync(f);
      return { mtimeMs: st.mtimeMs, text: () => readFileSync(f, 'utf8') };
    } catch {
      return null; // not written yet: no offset
    }
  });
  log.warn({ file, now: new Date(clock.now()).toISOString() }, 'AETHER_CLOCK_OFFSET_FILE is set: the wall clock is offset (replay or benchmark, never production)');
  return clock;
}

/**
 * `masterKey: false`: a process that decrypts nothing (the cluster's functions but api, the dispatcher) runs without the key mounted.
 * `auditKey: false`: a process that appends no audit rows (the dispatcher) runs without the audit key mounted.
 */
export async function openServices(config: Config, opts: { logger?: Logger; clock?: Clock; migrate?: boolean; masterKey?: boolean; auditKey?: boolean } = {}): Promise<Services> {
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const urls = await resolveDatabase(config, logger, false);
  const { url, embedded } = urls;
  // The queues connect while the database migrates and is checked: a start waits for the slower of
  // the two, not for both (BullMQ on PostgreSQL keeps its own tables in its own schema).
  const queueOpening = openQueueClient({
    redisUrl: config.REDIS_URL,
    // BullMQ on PostgreSQL creates and drops objects in its own schema as it runs (per-queue
    // sequences), so it needs the owner; it holds no account data. The cluster queues on Redis.
    databaseUrl: urls.ownerUrl ?? url,
    onError: (err) => logConnectionError(logger, 'warn', err, {}, 'queue connection'),
  }).catch((err: Error) => {
    throw new StartupError(err.message);
  });
  queueOpening.catch(() => undefined); // awaited below; failing first must not count as unhandled
  let opened: Database | null = null;
  try {
    const driver = embedded ? 'pg' : config.databaseDriver;
    if (opts.migrate ?? true) await migrateAsOwner(urls, driver);
    else if (embedded && urls.runtimePassword) await setRuntimePassword(embedded.url, urls.runtimePassword);
    const database = (opened = await openDatabase({ url, driver, onIdleError: (err) => logConnectionError(logger, 'warn', err, {}, 'database pool') }));
    const [, queue, timescale] = await Promise.all([checkLeastPrivilege(config, database, logger), queueOpening, hasTimescale(database.db)]);
    const masterKey = masterKeyFor(config, opts.masterKey ?? true);
    useAuditKey((opts.auditKey ?? true) ? loadAuditKey(config) : withoutAuditKey); // every audit row this process appends is keyed with it
    const ctx: AppContext = {
      config: { ...config, AETHER_METRICS_TOKEN: metricsTokenFor(config) },
      db: database.db,
      queue,
      logger,
      clock: opts.clock ?? wallClock(config, logger),
      masterKey,
      jobKey: loadJobKey(config),
      timescale,
      version: VERSION,
      // Kubernetes Secrets where Aether runs in Kubernetes (the API server's env is set in every pod).
      secretStore: config.KUBERNETES_SERVICE_HOST ? KubernetesSecretStore.inCluster(config.KUBERNETES_NAMESPACE, masterKey) : new EncryptedSecretStore(masterKey),
      checkCredentials: (creds, accountId) => checkKrakenCredentials(config.KRAKEN_API_URL, creds, { accountId, db: database.db }),
    };
    // The api (and `aether start`) hold the master key: they re-seal v1 secrets before serving and
    // keep the cluster's Kraken key Secrets in line with the database.
    const stopEvents = recordSystemEvents(ctx.db, logger, ctx.clock); // the system log's errors (GET /system/events)
    const keyKeeper = opts.migrate ?? true;
    if (keyKeeper) await resealLegacySecrets(ctx.db, masterKey, logger);
    const stopReconciler = keyKeeper && ctx.secretStore.secrets ? startSecretReconciler(ctx) : null;
    return {
      ctx,
      database,
      databaseUrl: url,
      embedded,
      async close() {
        await stopReconciler?.();
        await stopEvents();
        await queue.close();
        await database.close();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await queueOpening.then((q) => q.close(), () => undefined);
    await opened?.close();
    await embedded?.stop();
    throw err;
  }
}

/** For one-shot CLI commands: the database only (no queues), closed — and the embedded server stopped — afterwards. */
export async function withDatabase<T>(config: Config, fn: (db: Database['db'], masterKey: () => Buffer) => Promise<T>): Promise<T> {
  const logger = createLogger(config.LOG_LEVEL);
  useAuditKey(() => loadAuditKey(config)); // loaded by the first audit row the command appends, if any
  const urls = await resolveDatabase(config, logger, true);
  const { url, embedded } = urls;
  try {
    const driver = embedded ? 'pg' : config.databaseDriver;
    await migrateAsOwner(urls, driver);
    const database = await openDatabase({ url, driver, max: 2, onIdleError: (err) => logger.warn({ err }, 'database pool') });
    try {
      return await fn(database.db, () => masterKeyFor(config)); // only commands that encrypt need the key
    } finally {
      await database.close();
    }
  } finally {
    await embedded?.stop();
  }
}
