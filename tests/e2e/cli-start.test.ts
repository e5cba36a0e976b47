import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `aether start` at its edges (issue 12): a busy port is one clear line and exit 1 with nothing left
 * running; Ctrl-C — SIGINT to the whole process group, as a terminal sends it, so the embedded
 * PostgreSQL gets it too — stops quietly: exit 0, no stack trace, no error lines.
 */
const homes: string[] = [];
afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

function env(port: number): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'aether-cli-start-'));
  homes.push(home);
  const e: NodeJS.ProcessEnv = { ...process.env, AETHER_HOME: home, PORT: String(port), LOG_LEVEL: 'info' };
  for (const k of ['DATABASE_URL', 'DATABASE_DRIVER', 'REDIS_URL', 'GATEWAY_URL', 'AETHER_MASTER_KEY', 'AETHER_JOB_KEY', 'AETHER_MIGRATE_DATABASE_URL']) delete e[k];
  return e;
}

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** `aether start` as the leader of its own process group (a terminal's foreground job). */
function start(e: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, ['bin/aether.js', 'start'], { env: e, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

const postgresOn = (home: string): string => spawnSync('pgrep', ['-af', `postgres.*${home}`], { encoding: 'utf8' }).stdout.trim();

async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A stack trace line ("    at fn (file:line:col)"), raw or inside a JSON log's "stack" string. */
const STACK = /(^|\\n)\s+at .+[:(]\d+/m;

describe('aether start at its edges', () => {
  it('on a busy port exits 1 with a hint to set PORT, leaving no server, queues or PostgreSQL behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as { port: number }).port;
    try {
      const e = env(port);
      const a = start(e);
      const code = await Promise.race([a.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
      if (code === 'hung') process.kill(-a.child.pid!, 'SIGKILL');
      expect(code, a.stderr()).toBe(1);
      expect(a.stderr()).toMatch(new RegExp(`^aether: port ${port} on 127\\.0\\.0\\.1 is already in use: .*set PORT to a free port`, 'm'));
      expect(a.stderr()).not.toMatch(STACK);
      expect(a.stdout()).toBe(''); // no "is running" banner, no log line on stdout
      expect(postgresOn(e.AETHER_HOME!)).toBe('');
    } finally {
      await new Promise((ok) => blocker.close(ok));
    }
  }, 90_000);

  it('Ctrl-C (SIGINT to the process group) stops workers, then the database: exit 0, no stack trace, no error lines', async () => {
    const e = env(0);
    const a = start(e);
    await until('the running banner', () => /is running at http/.test(a.stdout()) || a.child.exitCode !== null, 60_000);
    expect(a.stdout()).toMatch(/is running at http/);
    // Human output only on stdout: the JSON logs are on stderr.
    expect(a.stdout()).not.toMatch(/^\{"level"/m);
    expect(a.stderr()).toMatch(/"msg":"Aether is running"/);
    await new Promise((r) => setTimeout(r, 2_000)); // the workers are polling their queues
    process.kill(-a.child.pid!, 'SIGINT');
    expect(await a.exited).toBe(0);
    const all = a.stdout() + a.stderr();
    expect(all).toMatch(/"msg":"shutting down"/);
    expect(all).not.toMatch(/worker error|error while shutting down|shutdown step failed|uncaught error/);
    expect(all).not.toMatch(/"level":(50|60)/); // no error or fatal log line
    expect(all).not.toMatch(STACK);
    expect(postgresOn(e.AETHER_HOME!)).toBe('');
  }, 120_000);
});
