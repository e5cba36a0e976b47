import { listAccounts } from '../accounts/accounts.ts';
import { latestSettings } from '../accounts/settings.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';

/** Every pair some account trades (what tick ingests and score scores). */
export async function tradedPairs(db: Db): Promise<string[]> {
  const pairs = new Set<string>();
  for (const a of await listAccounts(db)) {
    const t = await withAccount(db, a.id, (tx) => latestSettings(tx, a.id, 'trading'));
    for (const p of t.value.pairs) pairs.add(p);
  }
  return [...pairs].sort();
}
