import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `aether serve` as a pod runs it: a pod that mounts one account's Kraken secret serves only that account. */
describe('aether serve', () => {
  it('refuses another account’s order function, before touching the database', () => {
    const r = spawnSync(process.execPath, ['bin/aether.js', 'serve', 'order-director-1'], {
      env: { ...process.env, AETHER_ACCOUNT: 'company', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('AETHER_ACCOUNT=company');
  });

  it.each(['hedge', 'order-Bad', 'nothing'])('refuses a name that is no function (%s; the hedge is a phase of order-<account> now), before touching the database', (name) => {
    const r = spawnSync(process.execPath, ['bin/aether.js', 'serve', name], {
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`no function named ${name}`);
  });

  it('needs a function name', () => {
    const r = spawnSync(process.execPath, ['bin/aether.js', 'serve'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: aether serve <function>/);
  });
});
