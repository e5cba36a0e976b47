import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Api } from '../../bench/live/api.ts';

/**
 * `aether demo` as a new user runs it, offline: the recorded candles replayed through the Kraken
 * emulator; within minutes every default account has traded, has equity and a hedge ratio, seen
 * through the API after logging in as the banner says; everything says REPLAY.
 */
const home = mkdtempSync(join(tmpdir(), 'aether-demo-e2e-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const BARS = 4;

describe('aether demo', () => {
  it('replays the recorded candles: every account trades, shows equity and a hedge ratio, all marked as a replay', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AETHER_HOME: home, PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: 'postgres://ignored.invalid/x' };
    delete env.AETHER_CLOCK_OFFSET_FILE;
    // npm start -- --demo is the same command.
    const child = spawn(process.execPath, ['bin/aether.js', 'start', '--demo', '--bars', String(BARS), '--speed', '1000000'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    try {
      const t0 = Date.now();
      for (; !/"msg":"REPLAY finished/.test(out); ) {
        if (child.exitCode !== null) throw new Error(`aether demo exited ${child.exitCode}:\n${out.slice(-4000)}`);
        if (Date.now() - t0 > 150_000) throw new Error(`no 'REPLAY finished' within 150 s:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(Date.now() - t0).toBeLessThan(150_000);
      const url = /running at (http:\/\/[\d.]+:\d+)/.exec(out)![1]!;
      expect(out).toMatch(/mode: embedded, REPLAY of recorded candles/);
      expect(out).toMatch(/REPLAY: company, director-1, director-2 trade in simulation on recorded candles from 2021-10-04T00:00Z/);
      expect(out).toMatch(/log in: create the first admin with the onboarding token above/);
      // Its own embedded database in $AETHER_HOME/demo, whatever DATABASE_URL says.
      expect(out).toContain(join(home, 'demo', 'pg'));
      const replayLines = out.split('\n').filter((l) => l.includes('"msg":"REPLAY 2021-'));
      expect(replayLines).toHaveLength(BARS);
      expect(replayLines.every((l) => l.includes('"replay":true'))).toBe(true);
      expect(out).toMatch(/"msg":"history: training queued/);

      const health = (await (await fetch(`${url}/function/api/healthz`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({ status: 'ok', replay: true, marketData: { state: 'fresh' }, history: { state: 'done', source: 'replay' } });

      // Log in as the banner says; the runtime's wall clock is the replay's (TOTP codes run on it).
      const offset = () => Number(readFileSync(join(home, 'demo', 'clock-offset-ms'), 'utf8'));
      const api = new Api(() => url, () => Date.now() + offset());
      const token = /one-time onboarding token ([A-Za-z0-9_-]{16,})/.exec(out)![1]!;
      await api.onboardAdmin(token, 'demo.admin@example.com', 'a demo password 123');
      await api.login();
      for (const slug of ['company', 'director-1', 'director-2']) {
        const equity = (await api.expect('GET', `/function/api/accounts/${slug}/reports/equity`, undefined, 200, `${slug} equity`)).body as { points: Array<{ equityUsd: number; hedgeRatio: number }> };
        expect(equity.points.length, slug).toBeGreaterThanOrEqual(BARS);
        expect(equity.points.at(-1)!.equityUsd, slug).toBeGreaterThan(0);
        const trades = (await api.expect('GET', `/function/api/accounts/${slug}/trades`, undefined, 200, `${slug} trades`)).body as { trades: unknown[] };
        expect(trades.trades.length, slug).toBeGreaterThan(0);
        const hedge = (await api.expect('GET', `/function/api/accounts/${slug}/reports/hedge`, undefined, 200, `${slug} hedge`)).body as { current: { actual: number; target: number } | null };
        expect(hedge.current, slug).not.toBeNull();
        expect(hedge.current!.actual, slug).toBeGreaterThanOrEqual(0);
        expect(hedge.current!.target, slug).toBeGreaterThanOrEqual(0);
      }
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  }, 240_000);
});
