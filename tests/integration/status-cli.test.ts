import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { inProcessInvoker, startDispatcher } from '../../lib/queue/dispatcher.ts';
import { createApp as orderApp } from '../../functions/order/handler.ts';
import { createApp as scoreApp } from '../../functions/score/handler.ts';
import { createApp as tickApp } from '../../functions/tick/handler.ts';
import { runAether } from '../helpers/aether-cli.ts';
import { call, onboard, startApi, type ApiHarness } from '../helpers/api.ts';
import { loadRepoCandles, startKrakenEmulator, type KrakenEmulator } from '../kraken-emulator/index.ts';

/**
 * `aether cycle --now` and `aether status` (spawned, against the test database and its queues, on
 * the test's clock through AETHER_CLOCK_OFFSET_FILE): the cycle runs once through the workers this
 * test runs as `aether start` would, and status prints what GET /summary answers.
 */
const HOUR = 3_600_000;
const START = 720;
let h: ApiHarness;
let emu: KrakenEmulator;
let clock: VirtualClock;
let admin: string;
let home: string;
let env: Record<string, string>;

// The test's queues are on PostgreSQL, in the test database: not on a REDIS_URL the environment may hold.
const aether = (argv: string[]) => runAether(argv, { ...env, REDIS_URL: undefined });

beforeAll(async () => {
  // The repository's candles moved so the emulator's present is an hour or two ahead of the real one:
  // the spawned CLI's clock can only be put forward (AETHER_CLOCK_OFFSET_FILE), never back.
  const repo = loadRepoCandles();
  const shift = Math.ceil((Date.now() + 2 * HOUR - repo['BTC/USD']![START]!.openTime) / HOUR) * HOUR;
  const candles = Object.fromEntries(Object.entries(repo).map(([pair, cs]) => [pair, cs.map((c) => ({ ...c, openTime: c.openTime + shift }))]));
  emu = await startKrakenEmulator({ candles, startIndex: START });
  clock = new VirtualClock(emu.exchange.path.timeline[emu.exchange.cursor]! + 60_000);
  h = await startApi(() => ({ clock, config: { ...parseConfig({ AETHER_HOME: '/nonexistent', TRUSTED_PROXY_HOPS: '1' }), KRAKEN_API_URL: emu.url } }));
  admin = (await onboard(h)).token;
  home = mkdtempSync(join(tmpdir(), 'aether-status-'));
  const offsetFile = join(home, 'clock.offset');
  writeFileSync(offsetFile, String(clock.now() - Date.now()));
  env = { DATABASE_URL: h.testDb.url, AETHER_HOME: home, AETHER_CLOCK_OFFSET_FILE: offsetFile };
}, 60_000);
afterAll(async () => {
  await h?.close();
  await emu?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('aether cycle --now', () => {
  it('refuses without --now or with a bad --wait (exit 2, naming the flag)', async () => {
    const bare = await aether(['cycle']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--now is required');
    const bad = await aether(['cycle', '--now', '--wait', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--wait');
  }, 120_000);

  it('queues the scheduled cycle for the latest closed bar, waits for every account, prints their outcomes and the status', async () => {
    const accounts = (await h.testDb.owner.query<{ slug: string }>(`select slug from accounts order by slug`)).rows;
    const apps = { tick: tickApp(h.ctx), score: scoreApp(h.ctx), ...Object.fromEntries(accounts.map((a) => [`order-${a.slug}`, orderApp(h.ctx, a.slug)])) };
    const workers = startDispatcher(h.queue, ['tick', 'score', 'order'], inProcessInvoker(apps, h.ctx), h.ctx.logger, 1);
    try {
      const r = await aether(['cycle', '--now', '--wait', '90']);
      expect(r.code, r.stderr).toBe(0);
      const bar = new Date(clock.now() - (clock.now() % HOUR) - HOUR).toISOString();
      expect(r.stdout).toContain(`cycle for the bar opened ${bar} queued`);
      for (const a of accounts) expect(r.stdout).toMatch(new RegExp(`${a.slug}\\s+done`));
      expect(r.stdout).toContain('total SIMULATION: 3 account(s)');
      const audit = await h.testDb.owner.query(`select user_id, details from audit_log where action = 'cycle.requested'`);
      expect(audit.rows).toHaveLength(1);
      expect(audit.rows[0]).toMatchObject({ user_id: null, details: { via: 'cli', barTime: bar } });

      const again = await aether(['cycle', '--now', '--wait', '0']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('already queued: nothing new queued');
      expect((await h.testDb.owner.query(`select count(*)::int n from audit_log where action = 'cycle.requested'`)).rows[0].n).toBe(1);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
  }, 180_000);
});

describe('aether status', () => {
  it('--json is what GET /summary answers (but its time of reading)', async () => {
    const cli = await aether(['status', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const api = await call(h.app, 'GET', '/summary', { token: admin });
    expect(api.status, api.text).toBe(200);
    const printed = JSON.parse(cli.stdout) as { at: string; accounts: Array<{ lastCycle: unknown; equityAt: unknown }> };
    const served = api.body as typeof printed;
    expect(printed.accounts.every((a) => a.lastCycle !== null && a.equityAt !== null)).toBe(true);
    expect({ ...printed, at: null }).toEqual({ ...served, at: null });
  }, 120_000);

  it('prints a table with each account, its mode and state, and the totals per mode; --account narrows it', async () => {
    const r = await aether(['status']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ACCOUNT\s+MODE\s+STATE\s+EQUITY USD/);
    expect(r.stdout).toMatch(/company\s+SIMULATION\s+ACTIVE\s+[\d,]+\.\d\d/);
    expect(r.stdout).toContain('total SIMULATION: 3 account(s)');
    const one = await aether(['status', '--account', 'director-1']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('director-1');
    expect(one.stdout).not.toContain('company');
    const none = await aether(['status', '--account', 'nope']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no account 'nope'");
  }, 180_000);
});
