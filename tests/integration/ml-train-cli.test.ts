import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../bin/commands/train.ts';
import { repoCandles } from '../helpers/candles.ts';
import { upsertCandles } from '../../lib/market/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
const saved = { url: process.env.DATABASE_URL };
beforeAll(async () => {
  t = await createTestDatabase();
  const from = Date.parse('2022-01-01T00:00:00Z');
  for (const p of ['BTC/USD', 'ETH/USD']) await upsertCandles(t.app.db, repoCandles(p).filter((c) => c.openTime >= from && c.openTime < from + 2000 * 3_600_000), 'csv');
  process.env.DATABASE_URL = t.url;
});
afterAll(async () => {
  if (saved.url === undefined) delete process.env.DATABASE_URL;
  else process.env.DATABASE_URL = saved.url;
  await t?.drop();
});

const capture = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await run(argv), stdout: out.join(''), stderr: err.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
};

describe('aether train', () => {
  it('trains, decides on promotion, prints a summary and shows progress on stderr', async () => {
    const r = await capture(['--pairs', 'BTC/USD,ETH/USD', '--max-bars', '2000', '--no-adapt']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/training run .* \(manual, full\) on BTC\/USD,ETH\/USD: rows=\d+ folds=5/);
    expect(r.stdout).toMatch(/held out \S+ → \S+ \(\d+ rows\): challenger logloss=[\d.]+ auc=[\d.]+, base rate [\d.]+/);
    // No account in this database: the simulation runs the settings' defaults.
    expect(r.stdout).toMatch(/simulated \(defaults\): challenger -?[\d.]+ \(\d+ fills\), champion -, baseline -?[\d.]+ \(\d+ fills\), buy-and-hold -?[\d.]+/);
    expect(r.stderr).toMatch(/train \[#+\] 6\/6/);
    // No champion yet: promoted only if it beats the base rate and makes money in the simulation, more than the baseline.
    const promoted = /PROMOTED: no champion yet/.test(r.stdout);
    if (!promoted) expect(r.stdout).toMatch(/not promoted: .*(does not beat the base-rate prediction|simulated net return)/);
    const m = await t.owner.query(`select status from models`);
    expect(m.rows).toEqual([{ status: promoted ? 'champion' : 'challenger' }]);
    // A second run with a huge margin cannot clear it against the base rate; or, after a promotion,
    // there is nothing the champion has not learned to compare on.
    const again = await capture(['--pairs', 'BTC/USD,ETH/USD', '--max-bars', '2000', '--margin', '0.5', '--no-adapt']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(promoted ? /none: the champion .* has learned all but 0 labelled bars/ : /not promoted: log-loss .* by 0.5/);
  }, 180_000);

  it.each([
    [['--trigger', 'sometimes'], /--trigger/],
    [['--pairs', 'BTC/EUR'], /not a USD pair/],
    [['--max-bars', '5'], /--max-bars/],
    [['--margin', '-1'], /--margin/],
  ])('refuses %j with exit code 2', async (argv, message) => {
    const r = await capture(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
