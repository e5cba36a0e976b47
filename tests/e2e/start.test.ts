import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.ts';
import { parseJobKey } from '../../lib/http/job-signature.ts';
import { jobRequest } from '../../lib/queue/dispatcher.ts';
import { jobKeyFile } from '../../lib/runtime/job-key.ts';
import { functionNames, loadStack } from '../../lib/runtime/stack.ts';

/**
 * The README's first command, as a user runs it: `aether start` with no configuration boots the
 * embedded PostgreSQL, serves every function, and Ctrl-C leaves nothing behind.
 */
const home = mkdtempSync(join(tmpdir(), 'aether-e2e-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, AETHER_HOME: home, PORT: '0', LOG_LEVEL: 'warn' };
  for (const k of ['DATABASE_URL', 'DATABASE_DRIVER', 'REDIS_URL', 'GATEWAY_URL', 'AETHER_MASTER_KEY', 'AETHER_JOB_KEY', 'AETHER_MIGRATE_DATABASE_URL']) delete env[k];
  return env;
};

function start(): { child: ChildProcess; url: Promise<string>; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['bin/aether.js', 'start'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no URL within 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /running at (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  return { child, url, output: () => out, exited };
}

const postgresOn = (dir: string): string => spawnSync('pgrep', ['-af', `postgres.*${dir}`], { encoding: 'utf8' }).stdout.trim();

describe('aether start (embedded, no configuration)', () => {
  it('serves every function within 30 s, refuses a second process, and Ctrl-C exits 0 leaving no postgres', async () => {
    const t0 = Date.now();
    const a = start();
    const base = await a.url;
    const health = await fetch(`${base}/function/api/healthz`);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', mode: 'embedded', database: 'ok', queue: 'ok', queueBackend: 'postgres', timescale: 'no' });
    // /metrics needs the token generated into AETHER_HOME on first start.
    expect((await fetch(`${base}/function/api/metrics`)).status).toBe(401);
    expect(statSync(join(home, 'metrics.token')).mode & 0o777).toBe(0o600);
    const metrics = await fetch(`${base}/function/api/metrics`, { headers: { authorization: `Bearer ${readFileSync(join(home, 'metrics.token'), 'utf8').trim()}` } });
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(await metrics.text()).toMatch(/^# HELP /m);
    // The application's pool logs in as the least-privileged runtime role; the superuser only migrated (and queues BullMQ).
    const su = new pg.Client({ connectionString: `postgres://postgres:${readFileSync(join(home, 'pg.password'), 'utf8').trim()}@127.0.0.1:${readFileSync(join(home, 'pg.port'), 'utf8').trim()}/aether` });
    await su.connect();
    try {
      expect((await su.query(`select count(*)::int as n from pg_stat_activity where datname = 'aether' and usename = 'aether_runtime'`)).rows[0].n).toBeGreaterThan(0);
      expect((await su.query(`select rolsuper, rolbypassrls from pg_roles where rolname = 'aether_runtime'`)).rows[0]).toEqual({ rolsuper: false, rolbypassrls: false });
    } finally {
      await su.end();
    }
    expect(statSync(join(home, 'pg.runtime.password')).mode & 0o777).toBe(0o600);
    for (const name of functionNames(loadStack())) {
      const r = await fetch(`${base}/function/${name}/healthz`);
      expect(r.status, name).toBe(200);
      expect(((await r.json()) as { function: string }).function).toBe(name);
    }
    expect(a.output()).toMatch(/one-time onboarding token [A-Za-z0-9_-]{20,}/);

    const second = spawnSync(process.execPath, ['bin/aether.js', 'start'], { env: cleanEnv(), encoding: 'utf8', timeout: 30_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/another Aether process \(pid \d+\) owns/);

    expect(postgresOn(home)).not.toBe('');
    a.child.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(postgresOn(home)).toBe('');
  }, 90_000);

  it('keeps its data across restarts', async () => {
    const created = spawnSync(process.execPath, ['bin/aether.js', 'accounts', 'create', '--slug', 'kept', '--name', 'Kept'], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(created.status, created.stderr).toBe(0);
    const b = start();
    const base = await b.url;
    const listed = spawnSync(process.execPath, ['bin/aether.js', 'accounts', 'list'], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(listed.stdout).toMatch(/^kept\s/m); // joined the running server's database
    expect(b.output()).toContain('order-kept'); // an account added as data gets its order function

    // An account created while it runs gets its order function without a restart.
    const missing = await fetch(`${base}/function/order-late/healthz`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', requestId: expect.any(String) });
    const late = spawnSync(process.execPath, ['bin/aether.js', 'accounts', 'create', '--slug', 'late', '--name', 'Late'], { env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(late.status, late.stderr).toBe(0);
    const health = await fetch(`${base}/function/order-late/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ function: 'order-late', status: 'ok' });
    // Job routes share the listener with the API: without the job key's signature they run nothing.
    const unsigned = await fetch(`${base}/function/order-late`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ account: 'late', barTime: 0 }) });
    expect(unsigned.status).toBe(401);
    expect(await unsigned.json()).toMatchObject({ code: 'JOB_UNSIGNED' });
    // The key was generated on first start into AETHER_HOME, readable by its owner only.
    expect(statSync(jobKeyFile(home)).mode & 0o777).toBe(0o600);
    const signer = { jobKey: parseJobKey(readFileSync(jobKeyFile(home), 'utf8'), 'job.key'), clock: systemClock };
    // It is late's own order function: a (signed) job for another account is refused.
    const wrong = await fetch(`${base}/function/order-late`, jobRequest(signer, 'order-late', { account: 'kept', barTime: 0 }));
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ code: 'WRONG_ACCOUNT' });
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(postgresOn(home)).toBe('');
  }, 90_000);
});
