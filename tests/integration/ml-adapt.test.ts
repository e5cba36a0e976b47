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

// The accounts' settings are seeded before the trades: trades opened under them are the evidence.
const clock = new VirtualClock(Date.parse('2022-04-01T00:00:00Z'));
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
  clock.set(Date.parse('2022-06-01T00:00:00Z'));
});
afterAll(async () => {
  await t?.drop();
});

/**
 * A losing round trip: buy 2 at 100, sell 1 at 98 as `cause` (realised −2 − fee), then a hedge sale of
 * the other unit that must not count. The exit is a market order whatever its cause (the cycle
 * enforces take-profits as market sales): only the tag says what it was.
 */
async function losingTrade(account: Account, k: number, cause: 'signal' | 'take-profit' | 'stop' = 'signal', start = T0): Promise<void> {
  const ins = async (clientId: string, side: string, intent: string, orderCause: string, qty: number, price: number, pnl: number, ts: number) => {
    const o = await t.owner.query(
      `insert into orders (account_id, client_id, mode, pair, side, type, intent, cause, amount, status, decided_at) values ($1, $2, 'sim', 'ETH/USD', $3, 'market', $4, $5, $6, 'closed', $7) returning id`,
      [account.id, clientId, side, intent, orderCause, qty, new Date(ts)],
    );
    await t.owner.query(
      `insert into fills (account_id, order_id, trade_id, client_id, pair, side, price, qty, fee, realized_pnl, liquidity, cause, ts) values ($1, $2, $3, $4, 'ETH/USD', $5, $6, $7, 0.26, $8, 'taker', $9, $10)`,
      [account.id, o.rows[0].id, `t-${clientId}`, clientId, side, price, qty, pnl, orderCause, new Date(ts)],
    );
  };
  const ts = start + k * 3_600_000;
  await ins(`e${k}-${start}`, 'buy', 'entry', 'entry', 2, 100, 0, ts);
  await ins(`x${k}-${start}`, 'sell', 'exit', cause, 1, 98, -2.26, ts + 1000);
  await ins(`h${k}-${start}`, 'sell', 'hedge', 'hedge', 1, 101, 0.74, ts + 2000);
}

const settingsAudits = async (accountId: string) => (await t.owner.query(`select action, details from audit_log where account_id = $1 and action in ('settings.trading', 'settings.risk') order by id`, [accountId])).rows;

describe('threshold adaptation per account', () => {
  const min = DEFAULT_ADAPTATION_POLICY.minTrades;

  it(`changes nothing below ${min} closed trades`, async () => {
    for (let k = 0; k < min - 1; k++) await losingTrade(a, k);
    const trades = await withAccount(t.app.db, a.id, (tx) => closedTrades(tx, a.id));
    expect(trades).toHaveLength(min - 1); // hedge legs excluded
    expect(trades[0]).toMatchObject({ exitReason: 'signal' });
    expect(trades[0]!.netReturn).toBeCloseTo(-2.26 / (98 - 0.26 + 2.26), 9); // −2.26 on a cost of 100
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
    // Negative expectancy raises the entry bar by one step; no stop or target exits while the others lose: both multiples step in.
    expect(after.trading.value.entryThreshold).toBeCloseTo(before.trading.value.entryThreshold + DEFAULT_ADAPTATION_POLICY.thresholdStep, 9);
    expect(after.risk.value.slAtrMultiple).toBeCloseTo(before.risk.value.slAtrMultiple - DEFAULT_ADAPTATION_POLICY.multiplierStep, 9);
    expect(after.risk.value.tpAtrMultiple).toBeCloseTo(before.risk.value.tpAtrMultiple - DEFAULT_ADAPTATION_POLICY.multiplierStep, 9);
    const audits = (await settingsAudits(a.id)).slice(-2);
    expect(audits.map((x) => x.action)).toEqual(['settings.trading', 'settings.risk']);
    expect(audits[0].details.before.entryThreshold).toBe(before.trading.value.entryThreshold);
    expect(audits[0].details.after.entryThreshold).toBe(after.trading.value.entryThreshold);
  });

  it('the next night, with no new trade opened under the new values, changes nothing (no ratchet)', async () => {
    clock.advance(86_400_000);
    const before = (await settingsAudits(a.id)).length;
    expect(await adaptAccount(t.app.db, a.id, a.slug, clock)).toMatchObject({ changed: false, stats: { trades: 0 } });
    expect(await settingsAudits(a.id)).toHaveLength(before);
  });

  it('learns from the exits’ tags: take-profit exits (market sales) push the target out, not in', async () => {
    const start = clock.now() + 3_600_000;
    for (let k = 0; k < min; k++) await losingTrade(a, k, 'take-profit', start);
    clock.set(start + min * 3_600_000);
    const risk = await withAccount(t.app.db, a.id, (tx) => latestSettings(tx, a.id, 'risk'));
    const r = await adaptAccount(t.app.db, a.id, a.slug, clock);
    expect(r.stats).toMatchObject({ trades: min, targetRate: 1, stopRate: 0 });
    expect(r.reasons.join('; ')).toMatch(/take-profit exits 1\.00 of 20: extend target/);
    const after = await withAccount(t.app.db, a.id, (tx) => latestSettings(tx, a.id, 'risk'));
    expect(after.value.tpAtrMultiple).toBeCloseTo(risk.value.tpAtrMultiple + DEFAULT_ADAPTATION_POLICY.multiplierStep, 9);
  });
});
