import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Aether reads, parsed once. A bad value is a start-up error that names
 * the variable and what it expects (README "Configuration" lists the same table).
 */
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((u) => URL.canParse(u) && protocols.includes(new URL(u).protocol), `must be a ${protocols.join(' or ')} URL`)
    .optional();

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const envSchema = z
  .object({
    AETHER_HOME: z.string().min(1).default('./.aether'),
    PORT: z.coerce.number({ error: 'must be a port number (0–65535)' }).int('must be a port number (0–65535)').min(0, 'must be a port number (0–65535)').max(65_535, 'must be a port number (0–65535)').default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    DATABASE_DRIVER: z.enum(['pg', 'neon']).optional(),
    REDIS_URL: optionalUrl(['redis:', 'rediss:']),
    GATEWAY_URL: optionalUrl(['http:', 'https:']),
    SECRETS_DIR: z.string().min(1).default('/var/openfaas/secrets'),
    AETHER_MASTER_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64-encoded (44 characters)')
      .optional(),
    AETHER_JOB_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64-encoded (44 characters)')
      .optional(),
    AETHER_MIGRATE_DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
    /** HMAC key of the audit chain (lib/audit/key.ts); embedded: generated into $AETHER_HOME/audit.key. */
    AETHER_AUDIT_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64-encoded (44 characters)')
      .optional(),
    /** The audit anchor log (lib/audit/anchors.ts); embedded default $AETHER_HOME/audit-anchors.jsonl. */
    AETHER_AUDIT_ANCHORS: z.string().min(1).optional(),
    AETHER_ACCOUNT: z.string().regex(/^[a-z0-9-]{1,40}$/, 'must be an account slug such as company').optional(),
    KRAKEN_API_URL: z.string().url().default('https://api.kraken.com'),
    COINGECKO_API_URL: z.string().url().default('https://api.coingecko.com/api/v3'),
    COINGECKO_API_KEY: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(logLevels).default('info'),
    TLS_CERT: z.string().min(1).optional(),
    TLS_KEY: z.string().min(1).optional(),
    /** Proxies in front of the api that append to X-Forwarded-For; 0 = ignore the header (the socket's peer is the client). */
    TRUSTED_PROXY_HOPS: z.coerce.number({ error: 'must be a whole number 0–10' }).int('must be a whole number 0–10').min(0, 'must be a whole number 0–10').max(10, 'must be a whole number 0–10').default(0),
    KUBERNETES_NAMESPACE: z.string().min(1).default('aether'),
    /** Replays and benchmarks only: the wall clock runs ahead of the system clock by the ms in this file. */
    AETHER_CLOCK_OFFSET_FILE: z.string().min(1).optional(),
    /** Set by Kubernetes in every pod: key uploads then go to Kubernetes Secrets. */
    KUBERNETES_SERVICE_HOST: z.string().min(1).optional(),
    /** Bearer token /metrics requires (embedded: generated into $AETHER_HOME/metrics.token). */
    AETHER_METRICS_TOKEN: z.string().regex(/^[\x21-\x7e]{32,256}$/, 'must be 32–256 printable ASCII characters without spaces').optional(),
    /** Host names the HTTP server answers besides loopback and IP literals (DNS-rebinding guard); `*` answers any. */
    AETHER_ALLOWED_HOSTS: z
      .string()
      .transform((s) => s.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)$/, 'must be host names separated by commas (no ports), or *')))
      .default([]),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.TLS_CERT) !== Boolean(env.TLS_KEY))
      ctx.addIssue({ code: 'custom', path: [env.TLS_CERT ? 'TLS_KEY' : 'TLS_CERT'], message: 'TLS_CERT and TLS_KEY must be set together' });
    if (env.DATABASE_DRIVER && !env.DATABASE_URL)
      ctx.addIssue({ code: 'custom', path: ['DATABASE_DRIVER'], message: 'needs DATABASE_URL (the embedded database always uses pg)' });
  });

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** embedded: no DATABASE_URL, Aether starts its own PostgreSQL. cluster: everything comes from the environment. */
  mode: 'embedded' | 'cluster';
  databaseDriver: 'pg' | 'neon';
  queueBackend: 'redis' | 'postgres';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Neon hosts speak the serverless (WebSocket) protocol by default. */
const inferDriver = (url: string | undefined): 'pg' | 'neon' =>
  url && /\.neon\.tech$|\.neon\.build$/.test(new URL(url).hostname) ? 'neon' : 'pg';

/**
 * OpenFaaS hands secrets to functions as files, never as environment variables: a variable that is
 * unset is read from `$SECRETS_DIR/<kebab-name>` when that file exists (e.g. database-url).
 */
const FILE_SECRETS = ['DATABASE_URL', 'REDIS_URL', 'AETHER_MASTER_KEY', 'AETHER_AUDIT_KEY', 'COINGECKO_API_KEY', 'AETHER_METRICS_TOKEN', 'AETHER_JOB_KEY', 'AETHER_MIGRATE_DATABASE_URL'] as const;

function withFileSecrets(env: Record<string, string>): Record<string, string> {
  const dir = env.SECRETS_DIR ?? '/var/openfaas/secrets';
  const out = { ...env };
  for (const name of FILE_SECRETS) {
    const file = join(dir, name.toLowerCase().replace(/_/g, '-'));
    if (out[name] === undefined && existsSync(file)) out[name] = readFileSync(file, 'utf8').trim();
  }
  return out;
}

export function parseConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset: `FOO= aether start` should not mean "FOO is the empty string".
  const raw = withFileSecrets(Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return {
    ...env,
    mode: env.DATABASE_URL ? 'cluster' : 'embedded',
    databaseDriver: env.DATABASE_DRIVER ?? inferDriver(env.DATABASE_URL),
    queueBackend: env.REDIS_URL ? 'redis' : 'postgres',
  };
}

/** Name, default and meaning of every variable, for `aether config` and the README. */
export const configDocs: Array<[name: keyof Env, def: string, meaning: string]> = [
  ['AETHER_HOME', './.aether', 'Data directory: embedded PostgreSQL, the generated master key, the lock file.'],
  ['PORT', '8080', 'HTTP port of the embedded gateway or of `aether serve <function>` (0 picks a free port).'],
  ['HOST', '127.0.0.1', 'Interface to listen on.'],
  ['DATABASE_URL', '(unset → embedded PostgreSQL)', 'postgres:// URL of PostgreSQL/TimescaleDB or Neon. Set = cluster mode.'],
  ['DATABASE_DRIVER', 'inferred', '`pg` (node-postgres) or `neon` (@neondatabase/serverless); inferred from the URL host (*.neon.tech → neon).'],
  ['REDIS_URL', '(unset → BullMQ on PostgreSQL)', 'redis:// URL for the BullMQ queues. Unreachable at start-up = error, never a silent switch.'],
  ['GATEWAY_URL', '(unset)', 'OpenFaaS gateway; queue jobs are invoked over HTTP through it. Unset: functions are invoked in-process.'],
  ['SECRETS_DIR', '/var/openfaas/secrets', 'Where OpenFaaS mounts Kubernetes Secrets; DATABASE_URL, REDIS_URL, AETHER_MASTER_KEY, AETHER_AUDIT_KEY, AETHER_JOB_KEY, AETHER_MIGRATE_DATABASE_URL, COINGECKO_API_KEY, AETHER_METRICS_TOKEN are read from files there (database-url, …) when unset.'],
  ['AETHER_MASTER_KEY', '(generated)', 'base64 32-byte key encrypting secrets at rest in the embedded runtime; generated into $AETHER_HOME/master.key (0600) on first start.'],
  ['AETHER_JOB_KEY', '(generated)', 'base64 32-byte key signing job calls (dispatcher and cron → functions). Kubernetes: this variable or the aether-job-key secret; elsewhere generated into $AETHER_HOME/job.key (0600) on first start.'],
  ['AETHER_MIGRATE_DATABASE_URL', '(unset)', 'Owner URL used only by migrations (the migrate Job); DATABASE_URL is then the least-privileged runtime role aether_runtime, whose password `aether migrate` sets from DATABASE_URL.'],
  ['AETHER_AUDIT_KEY', '(generated)', 'base64 32-byte HMAC key of the audit chain, never stored in the database. Embedded: generated into $AETHER_HOME/audit.key (0600) on first start. Cluster: this variable or the aether-audit-key secret (required by every function that writes audit rows).'],
  ['AETHER_AUDIT_ANCHORS', '$AETHER_HOME/audit-anchors.jsonl', 'Append-only log where the tick (hourly) and report (daily) jobs anchor the audit chain head outside the database; `aether audit verify` checks the chain against it. Cluster: unset in the functions (they mount no volume); set where `aether audit anchor` runs hourly, on a persistent volume.'],
  ['AETHER_ACCOUNT', '(unset)', 'The account an `order-<account>` pod serves (set in stack.yml); `aether serve` refuses a different order function.'],
  ['KRAKEN_API_URL', 'https://api.kraken.com', 'Kraken REST base URL (the emulator in tests).'],
  ['COINGECKO_API_URL', 'https://api.coingecko.com/api/v3', 'CoinGecko base URL (history backfill).'],
  ['COINGECKO_API_KEY', '(unset)', 'CoinGecko demo API key (sent as x-cg-demo-api-key).'],
  ['LOG_LEVEL', 'info', 'pino level: fatal, error, warn, info, debug, trace, silent.'],
  ['TLS_CERT / TLS_KEY', '(unset)', 'PEM files; when both are set the server speaks HTTPS.'],
  ['TRUSTED_PROXY_HOPS', '0', 'Proxies in front of the api (ingress, gateway) that append to X-Forwarded-For; the client address for login throttling is the entry that many hops from the right. 0: the header is ignored.'],
  ['AETHER_CLOCK_OFFSET_FILE', '(unset)', 'Replays and benchmarks only: the wall clock is the system clock plus the milliseconds in this file (re-read when it changes, never backwards). Unset in production.'],
  ['KUBERNETES_NAMESPACE', 'aether', 'Namespace where the api function writes Kraken key Secrets (cluster).'],
  ['AETHER_METRICS_TOKEN', '(generated)', 'Bearer token /metrics requires (401 otherwise). Embedded: generated into $AETHER_HOME/metrics.token (0600) on first start. Cluster: this variable or the aether-metrics-token secret; unset, /metrics answers 401.'],
  ['AETHER_ALLOWED_HOSTS', '(loopback, IP literals)', 'Comma-separated host names the HTTP server answers (e.g. the public host aether.example.com); other Host headers get 421. Loopback names and IP literals always pass, in cluster mode also *.svc and *.svc.cluster.local. `*` answers any host.'],
] as unknown as Array<[keyof Env, string, string]>;
