import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAether } from '../helpers/aether-cli.ts';
import { startCoinGeckoFake } from '../helpers/coingecko-fake.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { loadRepoCandles, startKrakenEmulator } from '../kraken-emulator/index.ts';

const root = new URL('../../', import.meta.url).pathname;
const csv = (name: string) => `${root}data/ohlcv/kraken_${name}_1h.csv`;

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const args = ['backfill', '--source', 'csv', '--pairs', 'BTC/USD,ETH/USD', '--from', '2021-02-20T00:00:00Z', '--to', '2021-02-25T00:00:00Z', '--file', `BTC/USD=${csv('BTCUSD')}`, '--file', `ETH/USD=${csv('ETHUSD')}`];

describe('aether backfill (spawned CLI, real database)', () => {
  it('--source csv writes the range into the candle store, with a progress bar and a summary; a re-run changes nothing', async () => {
    const r = await runAether(args, { DATABASE_URL: t.url });
    expect(r.stderr).toContain('backfill [');
    expect(r.stderr).toContain('100%');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/BTC\/USD\s+rows=120 inserted=120 updated=0 unchanged=0 rejected=0 gaps=0/);
    expect(r.stdout).toMatch(/ETH\/USD\s+rows=120 inserted=120 .* outliers=1 /);
    expect(r.stdout).toContain('total rows=240');
    expect(r.stdout).toMatch(/outlier\s+ETH\/USD 2021-02-22T14:00Z/);
    const { rows } = await t.owner.query(`select pair, count(*)::int as n, min(open_time) as first, max(open_time) as last from candles group by pair order by pair`);
    expect(rows).toEqual([
      { pair: 'BTC/USD', n: 120, first: new Date('2021-02-20T00:00:00Z'), last: new Date('2021-02-24T23:00:00Z') },
      { pair: 'ETH/USD', n: 120, first: new Date('2021-02-20T00:00:00Z'), last: new Date('2021-02-24T23:00:00Z') },
    ]);
    const wick = await t.owner.query(`select low::text, source, flags from candles where pair = 'ETH/USD' and open_time = '2021-02-22T14:00:00Z'`);
    expect(wick.rows).toEqual([{ low: '700', source: 'csv', flags: ['outlier'] }]);

    const again = await runAether(args, { DATABASE_URL: t.url });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/BTC\/USD\s+rows=120 inserted=0 updated=0 unchanged=120/);
  });

  it('reports the recorded Kraken outage (2021-07-22 22:00 – 07-23 01:00) and a quiet hour as gaps', async () => {
    const r = await runAether(['backfill', '--source', 'csv', '--pairs', 'SOL/USD', '--from', '2021-07-22', '--to', '2021-07-24', '--file', `SOL/USD=${csv('SOLUSD')}`], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SOL\/USD\s+rows=43 .* gaps=2 missing_bars=5 /);
    expect(r.stdout).toContain('gap      SOL/USD 2021-07-23T02:00Z: 4 bar(s) of 3600s missing before it');
    expect(r.stdout).toContain('gap      SOL/USD 2021-07-23T14:00Z: 1 bar(s) of 3600s missing before it');
    const { rows } = await t.owner.query(`select open_time, flags from candles where pair = 'SOL/USD' and cardinality(flags) > 0 order by open_time`);
    expect(rows).toEqual([
      { open_time: new Date('2021-07-23T02:00:00Z'), flags: ['gap_before:4'] },
      { open_time: new Date('2021-07-23T14:00:00Z'), flags: ['gap_before:1'] },
    ]);
  });

  it('--source kraken reads the emulator (KRAKEN_API_URL) and --source coingecko the fake (COINGECKO_API_URL, demo key)', async () => {
    const emu = await startKrakenEmulator({ startIndex: 800 });
    const cg = await startCoinGeckoFake({ now: () => Date.now(), keys: ['demo-key'] });
    try {
      const btc = loadRepoCandles()['BTC/USD']!;
      const from = new Date(btc[750]!.openTime).toISOString();
      const to = new Date(btc[790]!.openTime).toISOString();
      const k = await runAether(['backfill', '--source', 'kraken', '--pairs', 'SOL/USD', '--from', from, '--to', to], { DATABASE_URL: t.url, KRAKEN_API_URL: emu.url });
      expect(k.code, k.stderr).toBe(0);
      expect(k.stdout).toMatch(/SOL\/USD\s+rows=40 inserted=40 /);
      expect(emu.calls('OHLC').map((r) => r.params.pair)).toEqual(['SOLUSD']);

      const g = await runAether(['backfill', '--source', 'coingecko', '--pairs', 'BTC/USD', '--from', '2022-03-01', '--to', '2022-03-03'], { DATABASE_URL: t.url, COINGECKO_API_URL: cg.url, COINGECKO_API_KEY: 'demo-key' });
      expect(g.code, g.stderr).toBe(0);
      expect(g.stdout).toMatch(/BTC\/USD\s+rows=48 inserted=48 /);
      expect(cg.requests.map((r) => [r.path, r.key, r.status])).toEqual([['/coins/bitcoin/market_chart/range', 'demo-key', 200]]);
      const { rows } = await t.owner.query(`select source, count(*)::int as n from candles where open_time >= '2022-03-01' and open_time < '2022-03-03' group by source`);
      expect(rows).toEqual([{ source: 'coingecko', n: 48 }]);
    } finally {
      await emu.close();
      await cg.close();
    }
  });

  it.each<[string, string[], RegExp]>([
    ['no source', ['--pairs', 'BTC/USD', '--from', '2021-01-01', '--to', '2021-01-02'], /--source must be coingecko, kraken or csv/],
    ['an unknown source', ['--source', 'binance', '--pairs', 'BTC/USD', '--from', '2021-01-01', '--to', '2021-01-02'], /got "binance"/],
    ['no pairs', ['--source', 'kraken', '--from', '2021-01-01', '--to', '2021-01-02'], /--pairs is required/],
    ['a non-USD pair', ['--source', 'kraken', '--pairs', 'BTC/EUR', '--from', '2021-01-01', '--to', '2021-01-02'], /not a USD pair/],
    ['a pair without a CoinGecko id', ['--source', 'coingecko', '--pairs', 'FOO/USD', '--from', '2021-01-01', '--to', '2021-01-02'], /coingecko has no mapping for FOO\/USD/],
    ['a bad date', ['--source', 'kraken', '--pairs', 'BTC/USD', '--from', 'yesterday', '--to', '2021-01-02'], /--from must be an ISO 8601/],
    ['from after to', ['--source', 'kraken', '--pairs', 'BTC/USD', '--from', '2021-01-03', '--to', '2021-01-02'], /--from must be before --to/],
    ['csv without a file', ['--source', 'csv', '--pairs', 'BTC/USD', '--from', '2021-01-01', '--to', '2021-01-02'], /needs --file PAIR=PATH for BTC\/USD/],
    ['a missing file', ['--source', 'csv', '--pairs', 'BTC/USD', '--from', '2021-01-01', '--to', '2021-01-02', '--file', 'BTC/USD=/nonexistent.csv'], /does not exist/],
    ['an unknown flag', ['--source', 'csv', '--bogus'], /unknown flag --bogus/],
  ])('bad arguments (%s) → exit 2 with a clear message', async (_name, argv, msg) => {
    const r = await runAether(['backfill', ...argv], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).toContain('usage: aether backfill');
  });
});
