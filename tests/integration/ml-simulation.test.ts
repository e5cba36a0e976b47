import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../lib/accounts/accounts.ts';
import { latestSettings, putSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import type { SignalProvider } from '../../lib/cycle/signals.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { USD_MARKETS } from '../../lib/exchange/usd-markets.ts';
import { hedgeSettingsSchema } from '../../lib/hedge/settings.ts';
import { riskSettingsSchema } from '../../lib/risk/settings.ts';
import { tradingSettingsSchema } from '../../lib/strategy/settings.ts';
import { SIMULATION_USD, simulationAccounts } from '../../lib/ml/sim-accounts.ts';
import { simulateProviders } from '../../lib/ml/simulation.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { cycleCandles } from '../helpers/regime-candles.ts';

/** The promotion's simulation runs the accounts' live settings (or the defaults) through the live cycle's backtest. */
let t: TestDatabase;
const clock = new VirtualClock(Date.parse('2023-06-01T00:00:00Z'));
const HOUR = 3_600_000;
const START = Date.parse('2023-01-01T00:00:00Z');
const seg = [{ bars: 600, period: 96, amplitude: 0.06 }];
const candles = { 'BTC/USD': cycleCandles('BTC/USD', START, seg, { seed: 7, price: 30_000 }), 'ETH/USD': cycleCandles('ETH/USD', START, seg, { seed: 8, price: 2_000 }) };

/** Always the same probability: whether it trades depends on the account's thresholds alone. */
const constant = (probUp: number): SignalProvider => ({
  name: `constant-${probUp}`,
  lookback: 30,
  signal(history) {
    const last = history.at(-1)!;
    return { pair: last.pair, time: last.openTime, probUp, expectedReturn: 0.05, horizonBars: 24, regime: { label: 'sideways', probs: { bull: 0, bear: 0, sideways: 1 } }, volatility: 0.01, atrPct: 0.01, modelVersion: `constant-${probUp}` };
  },
});

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

describe('promotion simulation accounts', () => {
  it('without accounts: the settings\' schema defaults on the trained pairs', async () => {
    const s = await simulationAccounts(t.app.db, ['BTC/USD', 'ETH/USD']);
    expect(s.names).toEqual(['defaults']);
    expect(s.accounts).toEqual([{ id: 'defaults', initialUsd: SIMULATION_USD, settings: { trading: tradingSettingsSchema.parse({ pairs: ['BTC/USD', 'ETH/USD'] }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) } }]);
  });

  it('with accounts: each one\'s latest settings, on the pairs it trades that were trained; unseeded or unrelated accounts are left out', async () => {
    await t.app.db.transaction(async (tx) => {
      const picky = await createAccount(tx, { slug: 'picky', name: 'Picky', kind: 'other' }, null, clock);
      await seedAccount(tx, picky.id, null, clock);
      const other = await createAccount(tx, { slug: 'other', name: 'Other', kind: 'other' }, null, clock);
      await seedAccount(tx, other.id, null, clock);
      await createAccount(tx, { slug: 'unseeded', name: 'Unseeded', kind: 'other' }, null, clock);
    });
    const [picky, other] = (await t.owner.query(`select id from accounts where slug in ('picky', 'other') order by slug desc`)).rows.map((r) => r.id as string);
    await withAccount(t.app.db, picky!, async (tx) => {
      const s = await latestSettings(tx, picky!, 'trading');
      await putSettings(tx, picky!, 'trading', { ...s.value, pairs: ['ETH/USD', 'SOL/USD'], entryThreshold: 0.95, exitThreshold: 0.5 }, null, clock);
    });
    await withAccount(t.app.db, other!, async (tx) => {
      const s = await latestSettings(tx, other!, 'trading');
      await putSettings(tx, other!, 'trading', { ...s.value, pairs: ['SOL/USD'] }, null, clock);
    });
    const s = await simulationAccounts(t.app.db, ['BTC/USD', 'ETH/USD']);
    expect(s.names).toEqual(['picky']);
    expect(s.accounts[0]!.settings.trading).toMatchObject({ pairs: ['ETH/USD'], entryThreshold: 0.95, exitThreshold: 0.5 });

    // The same signals trade under the defaults (entry threshold below 0.9) and not under this account's (0.95).
    expect(tradingSettingsSchema.parse({}).entryThreshold).toBeLessThan(0.9);
    const from = candles['BTC/USD'].at(-100)!.openTime + HOUR;
    const run = async (accounts: typeof s.accounts) => simulateProviders({ candles, markets: USD_MARKETS, accounts, from, providers: { p: constant(0.9) } });
    const live = await run(s.accounts);
    const defaults = await run((await simulationAccounts(t.app.db, ['BTC/USD'])).accounts);
    expect(live.p!.trades).toBe(0);
    expect(live.p!.totalReturn).toBe(0);
    expect(defaults.p!.trades).toBeGreaterThan(0);
    expect(defaults.p!.window).toEqual({ from, to: candles['BTC/USD'].at(-1)!.openTime + HOUR });
  }, 60_000);
});
