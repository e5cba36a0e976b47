import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../../bin/commands/evaluate.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { slice } from './realData.ts';

const toCsv = (c: readonly Candle[]): string =>
  ['time,open,high,low,close,volume', ...c.map((k) => `${new Date(k.openTime).toISOString().replace('.000Z', 'Z')},${k.open},${k.high},${k.low},${k.close},${k.volume}`)].join('\n');

describe('aether evaluate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aether-eval-'));
  const btc = join(dir, 'btc.csv');
  const eth = join(dir, 'eth.csv');
  writeFileSync(btc, toCsv(slice('BTC/USD', '2021-05-01', '2021-10-01')));
  writeFileSync(eth, toCsv(slice('ETH/USD', '2021-05-01', '2021-10-01')));
  let stderr: string[] = [];
  let stdout: string[] = [];
  beforeEach(() => {
    stderr = [];
    stdout = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    vi.spyOn(console, 'log').mockImplementation((...a) => void stdout.push(a.join(' ')));
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    { args: [], err: /--data/ },
    { args: ['--data', `BTC/USD=${btc}`], err: /--out/ },
    { args: ['--data', `BTCUSD=${btc}`, '--out', dir], err: /BTC\/USD=path/ },
    { args: ['--data', `ETH/USD=${eth}`, '--out', dir], err: /need --data BTC\/USD/ },
    { args: ['--data', `BTC/USD=${btc}`, '--out', dir, '--models', 'svm'], err: /unknown model/ },
    { args: ['--data', `BTC/USD=${btc}`, '--out', dir, '--folds', '0'], err: /--folds/ },
    { args: ['--data', `BTC/USD=${btc}`, '--out', dir, '--exit-threshold', '0.9'], err: /--exit-threshold/ },
    { args: ['--data', `BTC/USD=${join(dir, 'missing.csv')}`, '--out', dir], err: /ENOENT/ },
    { args: ['--bogus'], err: /bogus/ },
  ])('exits 2 with a message for $args', async ({ args, err }) => {
    expect(await run(args)).toBe(2);
    expect(stderr.join('')).toMatch(err);
    expect(stderr.join('')).toMatch(/usage: aether evaluate/);
  });

  it('prints per-fold metrics, the walk-forward comparison and the regime agreement, and writes evaluation.json', async () => {
    const out = join(dir, 'out');
    const code = await run(['--data', `BTC/USD=${btc}`, '--data', `ETH/USD=${eth}`, '--out', out, '--models', 'logistic', '--folds', '3', '--retrain-every', '240', '--min-train', '1500']);
    expect(stderr.join('')).toBe('');
    expect(code).toBe(0);
    const text = stdout.join('\n');
    expect(text).toMatch(/purged walk-forward CV \(3 folds/);
    expect(text).toMatch(/buy&hold .* EMA\(24\/96\)/);
    expect(text).toMatch(/regime agreement on BTC\/USD/);
    const j = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8'));
    expect(j.models.logistic.folds).toHaveLength(3);
    expect(j.models.logistic.walkForward.perPair.map((p: { pair: string }) => p.pair).sort()).toEqual(['BTC/USD', 'ETH/USD']);
    expect(j.regime.agreement).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(out, 'model-logistic.json'), 'utf8')).featureSetHash).toBe(j.featureSetHash);
  });
});
