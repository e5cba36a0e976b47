import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { recoverDataDir, serverProcesses, startEmbeddedPostgres, type EmbeddedDatabase } from '../../lib/runtime/embedded-postgres.ts';

/**
 * A restart after `kill -9` must come up on the same data: of the Aether process, of its embedded
 * PostgreSQL, or of both — whatever they leave behind (postmaster.pid, the shared memory segment, a
 * server still running, backends that outlive their postmaster, a lock naming a reused pid).
 * These start real PostgreSQL servers (one data directory, one after the other) and kill them.
 */
const home = mkdtempSync(join(tmpdir(), 'aether-pg-restart-'));
const dataDir = join(home, 'pg');
const spawned: ChildProcess[] = [];
let current: EmbeddedDatabase | null = null;
const logs: string[] = [];
const log = (m: string) => void logs.push(m);

afterAll(async () => {
  await current?.stop();
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
const postmasterPid = (): number => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

async function query<T extends pg.QueryResultRow>(db: EmbeddedDatabase, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function start(): Promise<EmbeddedDatabase> {
  current = await startEmbeddedPostgres(home, log);
  return current;
}

/** Kills the postmaster with SIGKILL and forgets the handle (its stop() would wait on a dead pid). */
function killPostmaster(): number {
  const pid = postmasterPid();
  process.kill(pid, 'SIGKILL');
  current = null;
  return pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('embedded PostgreSQL after kill -9', () => {
  it('comes back on the same data when the postmaster was killed (stale postmaster.pid and shared memory)', async () => {
    const db = await start();
    await query(db, 'create table kept (n int primary key)');
    await query(db, 'insert into kept values (1), (2)');
    const old = killPostmaster();
    // Straight away, as a supervisor would: the old server's children may still be exiting.
    const again = await start();
    expect(postmasterPid()).not.toBe(old);
    expect(alive(old)).toBe(false);
    expect((await query<{ n: number }>(again, 'select n from kept order by n')).map((r) => r.n)).toEqual([1, 2]);
    await again.stop();
    current = null;
    expect(existsSync(join(home, 'pg.port'))).toBe(false);
  }, 90_000);

  it('waits for, then kills, a backend that outlived its killed postmaster before starting a new one', async () => {
    const db = await start();
    const busy = new pg.Client({ connectionString: db.url });
    busy.on('error', () => undefined);
    await busy.connect();
    // A CPU-bound query does not notice its postmaster's death until it ends.
    const running = busy.query('select count(*) from generate_series(1, 5000000000)').catch((e: Error) => e);
    await sleep(300);
    killPostmaster();
    await sleep(200);
    const left = serverProcesses(dataDir) ?? [];
    expect(left.length).toBeGreaterThan(0); // the backend still runs on the data directory
    logs.length = 0;
    await recoverDataDir(dataDir, log, { graceMs: 500 });
    expect(logs.join('\n')).toMatch(/outlived their postmaster; killing them/);
    expect(left.filter(alive)).toEqual([]);
    await running;
    const again = await start();
    expect((await query<{ n: number }>(again, 'select count(*)::int as n from kept'))[0]!.n).toBe(2);
    await again.stop();
    current = null;
  }, 90_000);

  it('stops a server that a killed Aether process left running, then starts on the same data', async () => {
    // An Aether process of its own (node + tsx), killed with SIGKILL once its PostgreSQL is up.
    const moduleUrl = new URL('../../lib/runtime/embedded-postgres.ts', import.meta.url).href;
    const code = `const m = await import(${JSON.stringify(moduleUrl)}); await m.startEmbeddedPostgres(${JSON.stringify(home)}, () => {}); console.log('ready'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    spawned.push(child);
    let out = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`child did not start PostgreSQL: ${out}`)), 60_000);
      const on = (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout!.on('data', on);
      child.stderr!.on('data', on);
    });
    const orphan = postmasterPid();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(alive(orphan)).toBe(true); // PostgreSQL survives its parent
    logs.length = 0;
    const again = await start();
    expect(logs.join('\n')).toMatch(new RegExp(`stopping the server \\(pid ${orphan}\\)`));
    expect(alive(orphan)).toBe(false);
    expect(postmasterPid()).not.toBe(orphan);
    expect((await query<{ n: number }>(again, 'select count(*)::int as n from kept'))[0]!.n).toBe(2);
    await again.stop();
    current = null;
  }, 120_000);

  it('treats lock files whose pid now belongs to another program as stale', async () => {
    const db = await start();
    await db.stop();
    current = null;
    // Both pids were reused by something else since (a container restart, pid wrap-around).
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    spawned.push(other);
    // postmaster.pid as PostgreSQL writes it: pid, data directory, start time, port, socket dir, host, shm key/id, status.
    writeFileSync(join(dataDir, 'postmaster.pid'), [String(other.pid), dataDir, '0', '5432', '', '127.0.0.1', '  1234   5678', 'ready', ''].join('\n'));
    writeFileSync(join(home, 'aether.lock'), String(other.pid));
    logs.length = 0;
    const again = await start();
    expect(logs.join('\n')).toMatch(/no longer this server; removing the stale file/);
    expect(alive(other.pid!)).toBe(true); // left alone
    expect((await query<{ n: number }>(again, 'select count(*)::int as n from kept'))[0]!.n).toBe(2);
    await again.stop();
    current = null;
    other.kill('SIGKILL');
  }, 90_000);

  it('leaves no Unix socket files in /tmp behind a killed server', async () => {
    const db = await start();
    const port = new URL(db.url).port;
    killPostmaster();
    expect(existsSync(`/tmp/.s.PGSQL.${port}`)).toBe(false);
    expect(existsSync(`/tmp/.s.PGSQL.${port}.lock`)).toBe(false);
    const again = await start();
    await again.stop();
    current = null;
  }, 90_000);
});
