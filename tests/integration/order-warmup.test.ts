import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestSettings, putSettings } from '../../lib/accounts/settings.ts';
import { warmOrderJob } from '../../lib/cycle/order-job.ts';
import { withAccount } from '../../lib/db/scope.ts';
import { startLiveHarness, type LiveHarness } from '../helpers/live.ts';

/**
 * An order function readies itself at start-up (bin/gateway.ts starts warmOrderJob for every
 * order-<account> it builds): a live account's broker reads markets and its signed path before the
 * first job needs them; a simulated account — even one holding keys — never reaches a private endpoint.
 */
let h: LiveHarness;

beforeAll(async () => {
  h = await startLiveHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('order function warm-up', () => {
  it('a live account: markets, balances and open orders are read before any job, and the first job then trades', async () => {
    const { key } = await h.liveAccount('warm-live');
    const calls = (m: string) => h.emu.privateCalls(key.key, m);
    const [balances, open, orders] = [calls('BalanceEx'), calls('OpenOrders'), h.emu.orders(key.key).length];
    await warmOrderJob(h.ctx, 'warm-live');
    expect(calls('BalanceEx')).toBe(balances + 1);
    expect(calls('OpenOrders')).toBe(open + 1);
    expect(h.emu.orders(key.key)).toHaveLength(orders); // read-only
    await h.signal('BTC/USD', 0.9);
    const r = await h.cycle('warm-live');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ mode: 'live' });
  });

  it('a simulated account holding keys makes no private call', async () => {
    const { account, key } = await h.liveAccount('warm-sim');
    await withAccount(h.t.app.db, account.id, async (tx) => {
      const sim = await latestSettings(tx, account.id, 'simulation');
      await putSettings(tx, account.id, 'simulation', { ...sim.value, enabled: true }, null, h.wall);
    });
    const before = h.emu.privateCalls(key.key);
    await warmOrderJob(h.ctx, 'warm-sim');
    expect(h.emu.privateCalls(key.key)).toBe(before);
  });

  it('an account that does not exist is nothing to warm', async () => {
    await expect(warmOrderJob(h.ctx, 'no-such-account')).resolves.toBeUndefined();
  });
});
