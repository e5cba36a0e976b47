import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log.ts';
import { createApp } from '../../functions/api/handler.ts';
import { call, expectError, onboard, startApi, type ApiHarness } from '../helpers/api.ts';

/** A logger writing into an array of parsed JSON lines. */
function capture(level = 'info') {
  const raw: string[] = [];
  const logger = createLogger(level, { write: (s: string) => void raw.push(s) });
  return { logger, raw, text: () => raw.join(''), lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const SECRETS = {
  password: 'pw-9f1c2e-plaintext',
  secret: 'sec-77aa01-plaintext',
  apiKey: 'key-3b4c5d-plaintext',
  token: 'tok-e0e0e0-plaintext',
  authorization: 'Bearer auth-1a2b3c-plaintext',
  cookie: 'aether_session=cookie-4d5e6f-plaintext',
  privateKey: 'pk-121212-plaintext',
  totp: '493817',
};

describe('log redaction', () => {
  it('never writes the values of password, secret, apiKey, token or an authorization header', () => {
    const c = capture();
    c.logger.info(
      {
        password: SECRETS.password,
        secret: SECRETS.secret,
        apiKey: SECRETS.apiKey,
        token: SECRETS.token,
        headers: { authorization: SECRETS.authorization, cookie: SECRETS.cookie },
        nested: { deeper: { api_key: SECRETS.apiKey, privateKey: SECRETS.privateKey, totp: SECRETS.totp } },
        list: [{ password: SECRETS.password }],
        pair: 'BTC/USD',
      },
      'login attempt',
    );
    const out = c.text();
    expect(c.raw).toHaveLength(1);
    for (const v of Object.values(SECRETS)) expect(out).not.toContain(v);
    // The line is still there, with what is safe to show.
    const [line] = c.lines();
    expect(line).toMatchObject({ msg: 'login attempt', pair: 'BTC/USD', service: 'aether', password: '[redacted]' });
    expect((line!.headers as Record<string, unknown>).authorization).toBe('[redacted]');
  });

  it('redacts the same fields in child-logger bindings', () => {
    const c = capture();
    c.logger.child({ apiKey: SECRETS.apiKey, token: SECRETS.token, account: 'company' }).info('bound');
    const out = c.text();
    expect(out).toContain('"account":"company"');
    expect(out).not.toContain(SECRETS.apiKey);
    expect(out).not.toContain(SECRETS.token);
  });
});

describe('the api function logs an unhandled error without the data it carried', () => {
  let h: ApiHarness;
  let adminToken: string;
  beforeAll(async () => {
    h = await startApi();
    ({ token: adminToken } = await onboard(h));
    // Make user inserts fail inside the database, after the password was hashed.
    await h.testDb.owner.query(`
      create function test_refuse_users() returns trigger language plpgsql as $$ begin raise exception 'refused by test'; end $$;
      create trigger test_refuse_users before insert on users for each row execute function test_refuse_users();`);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a failed query is a 500 INTERNAL and its log line holds no password hash or sealed secret', async () => {
    const c = capture('error');
    const app = createApp({ ...h.ctx, logger: c.logger });
    const password = 'a password that must not leak';
    const r = await call(app, 'POST', '/users', { token: adminToken, json: { email: 'leak@example.com', name: 'Leak', role: 'viewer', password } });
    expectError(r, 500, 'INTERNAL');
    expect(r.text).not.toContain('refused by test');
    const lines = c.lines().filter((l) => l.msg === 'unhandled error');
    expect(lines).toHaveLength(1);
    const out = JSON.stringify(lines);
    expect(out).toContain('refused by test'); // the cause is logged…
    expect(out).not.toContain(password); // …but not the data of the statement
    expect(out).not.toContain('$argon2id$');
    expect(out).not.toMatch(/v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:/);
    expect(out).not.toContain('leak@example.com');
  });
});
