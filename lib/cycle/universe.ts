import { listAccounts } from '../accounts/accounts.ts';
import { latestSettings } from '../accounts/settings.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';

/** Every pair some account trades (what tick ingests and score scores). One unreadable account's settings fail it. */
export async function tradedPairs(db: Db): Promise<string[]> {
  const r = await tradedPairsReport(db);
  const [bad] = r.unreadable;
  if (bad) throw new Error(`trading settings of account ${bad.account} cannot be read: ${bad.error}`);
  return r.pairs;
}

export interface TradedPairsReport {
  pairs: string[];
  /** Accounts whose trading settings could not be read (their pairs are missing from `pairs`). */
  unreadable: Array<{ account: string; error: string }>;
}

/**
 * Every pair some account trades, reading each account on its own: an account whose trading
 * settings cannot be read (a row no longer valid, say) is reported and left out instead of stopping
 * the market data of every other account. The caller logs and answers what it reports.
 */
export async function tradedPairsReport(db: Db): Promise<TradedPairsReport> {
  const pairs = new Set<string>();
  const unreadable: TradedPairsReport['unreadable'] = [];
  for (const a of await listAccounts(db)) {
    try {
      const t = await withAccount(db, a.id, (tx) => latestSettings(tx, a.id, 'trading'));
      for (const p of t.value.pairs) pairs.add(p);
    } catch (err) {
      unreadable.push({ account: a.slug, error: (err as Error).message });
    }
  }
  return { pairs: [...pairs].sort(), unreadable };
}
