import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmuOrder } from '../kraken-emulator/index.ts';
import { startLiveHarness, type LiveAccount, type LiveHarness } from '../helpers/live.ts';

/**
 * The protection invariant on the emulator: no held quantity is ever without a resting stop at its
 * recorded level — a refused or failed exit leaves (or puts back) the stop, a moved level amends the
 * stop in place, and a stop that went missing is re-placed at the start of the next cycle, audited.
 */
let h: LiveHarness;

beforeAll(async () => {
  h = await startLiveHarness();
});
afterAll(async () => {
  await h?.close();
});

const rows = async (sql: string, params: unknown[] = []) => (await h.t.owner.query(sql, params)).rows;
const base = (symbol: string) => symbol.split('/')[0]!;
const held = (a: LiveAccount, symbol: string): number => h.emu.balances(a.key.key)[base(symbol) === 'BTC' ? 'XXBT' : 'XETH']?.total ?? 0;
const restingStops = (a: LiveAccount, altname: string): EmuOrder[] =>
  h.emu.orders(a.key.key).filter((o) => o.status === 'open' && o.side === 'sell' && o.ordertype === 'stop-loss' && o.pair.altname === altname);
const covered = (a: LiveAccount, altname: string) => restingStops(a, altname).reduce((s, o) => s + o.volume - o.volExec, 0);
const recordedStop = async (a: LiveAccount, pair: string) => Number((await rows('select stop_price from positions where account_id = $1 and pair = $2', [a.account.id, pair]))[0]?.stop_price);

/** A live account that bought ETH in the current bar, its stop resting; the market then moves on a bar. */
async function holding(slug: string): Promise<LiveAccount> {
  const a = await h.liveAccount(slug);
  await h.signal('ETH/USD', 0.9, { atrPct: 0.2 }); // the widest stop allowed: the replayed market should not reach it
  const r = await h.cycle(slug);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(held(a, 'ETH/USD'), JSON.stringify(r.body)).toBeGreaterThan(0);
  expect(covered(a, 'ETHUSD')).toBeCloseTo(held(a, 'ETH/USD'), 8);
  return a;
}

describe('the protection invariant, live', () => {
  it('an exit the market refuses (limit_only) leaves the stop resting and untouched', async () => {
    const a = await holding('refused-exit');
    await h.advance();
    h.emu.setPairStatus('ETHUSD', 'limit_only');
    try {
      const cancels = h.emu.calls('CancelOrder', a.key.key).length;
      await h.signal('ETH/USD', 0.05); // the model says get out
      const r = await h.cycle('refused-exit');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.refused, JSON.stringify(r.body)).toContain('MARKET_NOT_TRADABLE');
      expect(h.emu.calls('CancelOrder', a.key.key).length).toBe(cancels);
      expect(covered(a, 'ETHUSD')).toBeCloseTo(held(a, 'ETH/USD'), 8);
    } finally {
      h.emu.setPairStatus('ETHUSD', 'online');
    }
  });

  it('an exit the exchange rejects after the stop was freed gets its stop back at the recorded level', async () => {
    const a = await holding('rejected-exit');
    await h.advance();
    const level = await recordedStop(a, 'ETH/USD');
    h.emu.faults.add({ method: 'AddOrder', key: a.key.key, kind: 'error', error: 'EOrder:Insufficient funds', count: 1 });
    await h.signal('ETH/USD', 0.05);
    const r = await h.cycle('rejected-exit');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(held(a, 'ETH/USD')).toBeGreaterThan(0);
    expect(covered(a, 'ETHUSD')).toBeCloseTo(held(a, 'ETH/USD'), 8);
    expect(restingStops(a, 'ETHUSD').every((o) => Math.abs(o.price! - level) < 0.01)).toBe(true);
  });

  it('a recorded level that moved is applied by amending the resting stop in place', async () => {
    const a = await holding('moved-level');
    await h.advance();
    const [before] = restingStops(a, 'ETHUSD');
    const level = Number((before!.price! * 0.99).toFixed(2)); // below the market: it must rest, not fire
    await h.t.owner.query('update positions set stop_price = $3 where account_id = $1 and pair = $2', [a.account.id, 'ETH/USD', level]);
    const cancels = h.emu.calls('CancelOrder', a.key.key).length;
    await h.signal('ETH/USD', 0.55); // hold
    const r = await h.cycle('moved-level');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const after = restingStops(a, 'ETHUSD');
    expect(after.map((o) => o.txid)).toEqual([before!.txid]); // the same order, never a moment without it
    expect(after[0]!.price).toBeCloseTo(level, 2);
    expect(h.emu.calls('CancelOrder', a.key.key).length).toBe(cancels);
    expect(h.emu.calls('AmendOrder', a.key.key).length).toBeGreaterThan(0);
  });

  it('a stop that went missing is re-placed at the start of the next cycle, audited', async () => {
    const a = await holding('lost-stop');
    await h.advance();
    // Someone cancels the stop by hand between two cycles.
    const outsider = new ccxt.kraken({ apiKey: a.key.key, secret: a.key.secret, urls: { api: { public: h.emu.url, private: h.emu.url } } });
    outsider.nonce = () => h.wall.now() * 1000 + 999; // ahead of the account's own nonces, as a human's app would be
    for (const o of restingStops(a, 'ETHUSD')) await outsider.privatePostCancelOrder({ txid: o.txid });
    expect(covered(a, 'ETHUSD')).toBe(0);
    await h.signal('ETH/USD', 0.55);
    const r = await h.cycle('lost-stop');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ state: 'ACTIVE' });
    expect(covered(a, 'ETHUSD')).toBeCloseTo(held(a, 'ETH/USD'), 8);
    const audit = await rows(`select details from audit_log where account_id = $1 and action = 'order.submit' and details->>'kind' = 'protect'`, [a.account.id]);
    expect(audit.length).toBeGreaterThan(0);
  });
});
