import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../bin/commands/backtest.ts';

const out = mkdtempSync(join(tmpdir(), 'aether-ml-bt-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const data = ['--data', 'BTC/USD=data/ohlcv/kraken_BTCUSD_1h.csv', '--data', 'ETH/USD=data/ohlcv/kraken_ETHUSD_1h.csv'];

describe('aether backtest --strategy ml', () => {
  it('walks forward on a short slice and writes report.json, trades.csv and equity.csv', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await run([...data, '--from', '2022-05-01T00:00:00Z', '--to', '2022-05-03T23:00:00Z', '--strategy', 'ml', '--retrain-every', '24', '--train-bars', '1500', '--out', out]);
      expect(code).toBe(0);
      // 72 decision times, a retrain at the first and then every 24 bars.
      expect(stdout.mock.calls.map((c) => String(c[0])).join('')).toMatch(/walk-forward: 3 retrains every 24 bars/);
    } finally {
      stdout.mockRestore();
    }
    for (const f of ['report.json', 'trades.csv', 'equity.csv']) expect(existsSync(join(out, f)), f).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ start: '2022-05-01T01:00:00.000Z', pairs: ['BTC/USD', 'ETH/USD'] });
    expect(readFileSync(join(out, 'equity.csv'), 'utf8').trim().split('\n').length).toBe(72 + 1);
  }, 120_000);

  it.each([
    [['--strategy', 'ml', '--data', 'ETH/USD=data/ohlcv/kraken_ETHUSD_1h.csv'], /needs --data BTC\/USD/],
    [[...data, '--strategy', 'ml', '--retrain-every', '0'], /--retrain-every/],
    [[...data, '--strategy', 'magic'], /expected baseline or ml/],
  ])('refuses bad arguments with exit code 2 (%j)', async (argv, message) => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run([...argv, '--out', out])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(message);
    } finally {
      stderr.mockRestore();
    }
  });
});
