import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../lib/config.ts';

describe('configuration', () => {
  it('gives the embedded defaults with nothing set', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ AETHER_HOME: './.aether', PORT: 8080, HOST: '127.0.0.1', mode: 'embedded', databaseDriver: 'pg', queueBackend: 'postgres', LOG_LEVEL: 'info' });
  });

  it.each([
    [{ DATABASE_URL: 'postgres://u@db:5432/aether' }, { mode: 'cluster', databaseDriver: 'pg' }],
    [{ DATABASE_URL: 'postgres://u:p@ep-cool-1.eu-central-1.aws.neon.tech/db' }, { databaseDriver: 'neon' }],
    [{ DATABASE_URL: 'postgres://u@db/aether', DATABASE_DRIVER: 'neon' }, { databaseDriver: 'neon' }],
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, { queueBackend: 'redis' }],
    [{ PORT: '0' }, { PORT: 0 }],
    [{ PORT: '' }, { PORT: 8080 }],
  ])('derives %o', (env, expected) => {
    expect(parseConfig(env)).toMatchObject(expected);
  });

  it.each([
    ['PORT', { PORT: 'abc' }, /port number/],
    ['PORT', { PORT: '70000' }, /port number/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x/y' }, /postgres/],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }, /URL/i],
    ['DATABASE_DRIVER', { DATABASE_URL: 'postgres://x/y', DATABASE_DRIVER: 'mysql' }, /pg|neon/],
    ['DATABASE_DRIVER', { DATABASE_DRIVER: 'neon' }, /DATABASE_URL/],
    ['REDIS_URL', { REDIS_URL: 'http://x' }, /redis/],
    ['AETHER_MASTER_KEY', { AETHER_MASTER_KEY: 'short' }, /32 bytes/],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /fatal|info/],
    ['TLS_KEY', { TLS_CERT: '/x.pem' }, /together/],
    ['GATEWAY_URL', { GATEWAY_URL: 'ftp://gw' }, /http/],
  ])('rejects a bad %s and names it', (name, env, expectation) => {
    let err: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain(`${name}:`);
    expect(msg).toMatch(expectation);
  });

  it('stops the CLI with exit code 1 and a message naming the variable', () => {
    const r = spawnSync(process.execPath, ['bin/aether.js', 'start'], { env: { ...process.env, PORT: 'eighty' }, encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PORT: must be a port number');
  });
});
