import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KrakenError, KrakenExchange } from './exchange.ts';
import { hourly } from './helpers.ts';

const op = fc.oneof(
  fc.record({ kind: fc.constantFrom('limit', 'market', 'stop-loss', 'take-profit', 'stop-loss-limit'), side: fc.constantFrom('buy', 'sell'), offset: fc.integer({ min: -15, max: 15 }), volume: fc.integer({ min: 1, max: 400 }), close: fc.boolean() }),
  fc.record({ kind: fc.constant('cancel'), pick: fc.nat() }),
  fc.record({ kind: fc.constant('amend'), pick: fc.nat(), volume: fc.option(fc.integer({ min: 1, max: 400 })), offset: fc.option(fc.integer({ min: -15, max: 15 })) }),
  fc.record({ kind: fc.constant('advance') }),
);

// A wandering BTC path around 100 (deterministic from the seed rows).
const rows = fc.array(fc.tuple(fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 8 })), { minLength: 40, maxLength: 40 });

describe('accounting invariants under random order flow', () => {
  it('free balances never go negative, holds match open orders, and fills conserve base and quote (with amends)', () => {
    fc.assert(
      fc.property(rows, fc.array(op, { minLength: 20, maxLength: 80 }), (moves, ops) => {
        let px = 100;
        const candles = hourly(
          'BTC/USD',
          moves.map(([d, up, down]) => {
            const open = px;
            px = Math.max(50, px + d);
            return [open, Math.max(open, px) + up, Math.min(open, px) - down, px] as [number, number, number, number];
          }),
        );
        let t = 0;
        const ex = new KrakenExchange({ candles: { 'BTC/USD': candles }, startIndex: 0, halfSpread: 0.001, now: () => (t += 1000) });
        const acc = ex.addAccount({ key: 'k', secret: 'c2VjcmV0', balances: { USD: 20_000, BTC: 20 } });
        for (const o of ops) {
          try {
            if (o.kind === 'advance') {
              if (ex.cursor + 1 < ex.path.timeline.length) ex.advance();
            } else if (o.kind === 'cancel') {
              const open = ex.ordersOf('k').filter((x) => x.status === 'open');
              if (open.length > 0) ex.cancelOrder(acc, { txid: open[o.pick % open.length]!.txid });
            } else if (o.kind === 'amend') {
              const open = ex.ordersOf('k').filter((x) => x.status === 'open');
              const target = open[o.pick % Math.max(1, open.length)];
              if (target) {
                const price = String(Math.max(1, Math.round(ex.last(ex.pair('XBTUSD')) + (o.offset ?? 0))));
                const priceField = target.ordertype === 'limit' ? 'limit_price' : 'trigger_price';
                ex.amendOrder(acc, {
                  txid: target.txid,
                  ...(o.volume !== null ? { order_qty: (o.volume / 100).toFixed(2) } : {}),
                  ...(o.offset !== null || o.volume === null ? { [priceField]: price } : {}),
                });
              }
            } else {
              const ref = Math.round(ex.last(ex.pair('XBTUSD')) + o.offset);
              const price = String(Math.max(1, ref));
              ex.addOrder(acc, {
                pair: 'XBTUSD',
                type: o.side,
                ordertype: o.kind,
                volume: (o.volume / 100).toFixed(2),
                ...(o.kind === 'market' ? {} : { price }),
                ...(o.kind === 'stop-loss-limit' ? { price2: price } : {}),
                ...(o.close && o.kind !== 'market' ? { close: { ordertype: 'limit', price: String(o.side === 'buy' ? ref + 10 : Math.max(1, ref - 10)) } } : {}),
              });
            }
          } catch (e) {
            if (!(e instanceof KrakenError)) throw e; // refusals are fine; anything else is a bug
          }
          for (const asset of ['ZUSD', 'XXBT']) expect(ex.free(acc, asset)).toBeGreaterThanOrEqual(-1e-6);
          for (const o2 of ex.ordersOf('k')) {
            if (o2.status !== 'open') expect(o2.hold).toBeNull();
            if (o2.status === 'closed') expect(o2.volExec).toBeCloseTo(o2.volume, 9);
            if (o2.status === 'open') expect(o2.volExec).toBeLessThan(o2.volume);
          }
        }
        const trades = ex.tradesOf('k');
        const buys = trades.filter((x) => x.side === 'buy');
        const sells = trades.filter((x) => x.side === 'sell');
        const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
        expect(ex.total(acc, 'XXBT')).toBeCloseTo(20 + sum(buys.map((x) => x.vol)) - sum(sells.map((x) => x.vol)), 8);
        expect(ex.total(acc, 'ZUSD')).toBeCloseTo(20_000 - sum(buys.map((x) => x.cost + x.fee)) + sum(sells.map((x) => x.cost - x.fee)), 6);
      }),
      { numRuns: 60, seed: 20261201 },
    );
  });
});
