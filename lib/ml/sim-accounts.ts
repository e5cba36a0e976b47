import { listAccounts } from '../accounts/accounts.ts';
import { latestSettings } from '../accounts/settings.ts';
import type { BacktestAccount } from '../cycle/backtest.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import { hedgeSettingsSchema } from '../hedge/settings.ts';
import { riskSettingsSchema } from '../risk/settings.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';

/**
 * The equity each simulated account starts with: the same for all, so every account's live
 * settings weigh equally in the combined return (the figures are returns, not amounts).
 */
export const SIMULATION_USD = 10_000;

/**
 * The accounts a promotion simulation runs (I/O): every account with its latest (live) trading, risk
 * and hedge settings — each read in its own account scope, as the order job reads them — trading the
 * pairs it trades that the model was trained on. Without any such account: the settings' schema
 * defaults on the trained pairs, named 'defaults'.
 */
export async function simulationAccounts(db: Db, pairs: readonly string[]): Promise<{ accounts: BacktestAccount[]; names: string[] }> {
  const accounts: BacktestAccount[] = [];
  const names: string[] = [];
  for (const a of await listAccounts(db)) {
    const settings = await withAccount(db, a.id, async (tx) => ({
      trading: (await latestSettings(tx, a.id, 'trading')).value,
      risk: (await latestSettings(tx, a.id, 'risk')).value,
      hedge: (await latestSettings(tx, a.id, 'hedge')).value,
    })).catch((err: unknown) => {
      // An account created but not seeded yet has no settings rows: it trades nothing live either.
      if (err instanceof Error && / has no (trading|risk|hedge) settings$/.test(err.message)) return null;
      throw err;
    });
    const mine = settings?.trading.pairs.filter((p) => pairs.includes(p)) ?? [];
    if (!settings || !mine.length) continue;
    accounts.push({ id: a.slug, initialUsd: SIMULATION_USD, settings: { ...settings, trading: { ...settings.trading, pairs: mine } } });
    names.push(a.slug);
  }
  if (accounts.length) return { accounts, names };
  const defaults = { trading: tradingSettingsSchema.parse({ pairs: [...pairs] }), risk: riskSettingsSchema.parse({}), hedge: hedgeSettingsSchema.parse({}) };
  return { accounts: [{ id: 'defaults', initialUsd: SIMULATION_USD, settings: defaults }], names: ['defaults'] };
}
