import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, type Account } from '../../lib/accounts/accounts.ts';
import { latestSettings, seedAccount } from '../../lib/accounts/settings.ts';
import { VirtualClock } from '../../lib/clock.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { adaptAccount, adaptAllAccounts, closedTrades } from '../../lib/ml/adapt-accounts.ts';
import { DEFAULT_ADAPTATION_POLICY } from '../../lib/strategy/adaptation.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let t: TestDatabase;
let a: Account;

const clock = new VirtualClock(Date.parse('2022-06-01T00:00:00Z'));
const T0 = Date.parse('2022-05-01T00:00:00Z');

beforeAll(async () => {
  t = await createTestDatabase();
  [a] = await t.app.db.transaction(async (tx) => {
    const x = await createAccount(tx, { slug: 'ad-one', name: 'One', kind: 'other' }, null, clock);
    const y = await createAccount(tx, { slug: 'ad-two', name: 'Two', kind: 'other' }, null, clock);
    await seedAccount(tx, x.id, null, clock);
    await seedAccount(tx, y.id, null, clock);
    return [x, y];
  });
});
afterAll(async () => {
  await t?.drop();
});

/** A losing round trip: buy at 100, sell at 98 (realised −2 per unit); plus a hedge sell that must not count. */
async function losingTrade(account: Account, k: number): Promise<void> {
  const ins = async (clientId: string, side: string, intent: string, price: number, pnl: number, ts: number) => {
    const o = await t.owner.query(
      `insert into orders (account_id, client_id, mode, pair, side, type, intent, amount, status, decided_at) values ($1, $2, 'sim', 'ETH/USD', $3, 'market', $4, 1, 'closed', $5) returning id`,
      [account.id, clientId, side, intent, new Date(ts)],
    );
    await t.owner.query(`insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, ts) values ($1, $2, $3, $4, 'ETH/USD', $5, $6, 1, 0.26, $7, 'taker', $8)`, [
      account.id,
      o.rows[0].id,
      `t-${clientId}`,
      clientId,
      side,
      price,
      pnl,
      new Date(ts),
    ]);
  };
  const ts = T0 + k * 3_600_000;
  await ins(`e${k}`, 'buy', 'entry', 100, 0, ts);
  await ins(`x${k}`, 'sell', 'exit', 98, -2, ts + 1000);
  await ins(`h${k}`, 'sell', 'hedge', 101, 1, ts + 2000);
}

const settingsAudits = async (accountId: string) => (await t.owner.query(`select action, details from audit_log where account_id = $1 and action in ('settings.trading', 'settings.risk') order by id`, [accountId])).rows;

describe('threshold adaptation per account', () => {
  const min = DEFAULT_ADAPTATION_POLICY.minTrades;

  it(`changes nothing below ${min} closed trades`, async () => {
    for (let k = 0; k < min - 1; k++) await losingTrade(a, k);
    const trades = await withAccount(t.app.db, a.id, (tx) => closedTrades(tx, a.id));
    expect(trades).toHaveLength(min - 1); // hedge legs excluded
    expect(trades[0]).toMatchObject({ exitReason: 'signal' });
    expect(trades[0]!.netReturn).toBeCloseTo(-0.02, 6);
    const before = (await settingsAudits(a.id)).length;
    const r = await adaptAccount(t.app.db, a.id, a.slug, clock);
    expect(r).toMatchObject({ trades: min - 1, changed: false, versions: {} });
    expect(await settingsAudits(a.id)).toHaveLength(before);
  });

  it(`writes new trading and risk settings versions, audited with before/after, at ${min} trades`, async () => {
    await losingTrade(a, min - 1);
    const before = await withAccount(t.app.db, a.id, async (tx) => ({ trading: await latestSettings(tx, a.id, 'trading'), risk: await latestSettings(tx, a.id, 'risk') }));
    const [ra, rb] = await adaptAllAccounts(t.app.db, clock);
    expect(rb).toMatchObject({ account: 'ad-two', trades: 0, changed: false }); // the other account's trades are not its own
    expect(ra).toMatchObject({ account: 'ad-one', trades: min, changed: true, versions: { trading: before.trading.version + 1, risk: before.risk.version + 1 } });
    const after = await withAccount(t.app.db, a.id, async (tx) => ({ trading: await latestSettings(tx, a.id, 'trading'), risk: await latestSettings(tx, a.id, 'risk') }));
    // Negative expectancy raises the entry bar by one step; no stop or target exits: both multiples step in.
    expect(after.trading.value.entryThreshold).toBeCloseTo(before.trading.value.entryThreshold + DEFAULT_ADAPTATION_POLICY.thresholdStep, 9);
    expect(after.risk.value.slAtrMultiple).toBeCloseTo(before.risk.value.slAtrMultiple - DEFAULT_ADAPTATION_POLICY.multiplierStep, 9);
    expect(after.risk.value.tpAtrMultiple).toBeCloseTo(before.risk.value.tpAtrMultiple - DEFAULT_ADAPTATION_POLICY.multiplierStep, 9);
    const audits = (await settingsAudits(a.id)).slice(-2);
    expect(audits.map((x) => x.action)).toEqual(['settings.trading', 'settings.risk']);
    expect(audits[0].details.before.entryThreshold).toBe(before.trading.value.entryThreshold);
    expect(audits[0].details.after.entryThreshold).toBe(after.trading.value.entryThreshold);
  });
});
