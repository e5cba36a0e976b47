import { describe, expect, it } from 'vitest';
import { ownMoves, reconcile, type ExchangeOrder, type LocalOrderState, type ReconcileInput } from '../../../lib/exchange/kraken-reconcile.ts';
import type { Balances, Fill } from '../../../lib/exchange/types.ts';

const exOrder = (id: string, clientId: string | null, over: Partial<ExchangeOrder> = {}): ExchangeOrder => ({
  id, clientId, pair: 'BTC/USD', side: 'buy', type: 'limit', amount: 0.01, price: 30_000, status: 'open', filled: 0, avgPrice: null, fee: 0, createdAt: 0, parentId: null, ...over,
});
const local = (clientId: string, exchangeId: string | null, status: LocalOrderState['status'] = 'open', filled = 0): LocalOrderState => ({ clientId, exchangeId, status, filled });
const fill = (id: string, orderId: string, over: Partial<Fill> = {}): Fill => ({ id, orderId, clientId: null, pair: 'BTC/USD', side: 'buy', price: 30_000, amount: 0.01, fee: 0.78, liquidity: 'taker', time: 1, ...over });
const run = (over: Partial<ReconcileInput['local']>, ex: Partial<ReconcileInput['exchange']>) =>
  reconcile({ local: { orders: [], fills: [], ...over }, exchange: { orders: [], fills: [], ...ex } });

describe('reconcile', () => {
  it('identical state is matched, nothing else', () => {
    expect(run({ orders: [local('c1', 'O1')] }, { orders: [exOrder('O1', 'c1')] })).toEqual({ matched: ['c1'], updates: [], unexplained: [] });
  });

  it.each([
    ['a pending order that landed', [local('c1', null, 'pending')], [exOrder('O1', 'c1')], { kind: 'order', clientId: 'c1', exchangeId: 'O1', status: 'open' }],
    ['an unknown-state order that landed', [local('c1', null, 'unknown')], [exOrder('O1', 'c1', { status: 'closed', filled: 0.01 })], { kind: 'order', clientId: 'c1', status: 'closed', filled: 0.01 }],
    ['an open order that filled', [local('c1', 'O1')], [exOrder('O1', 'c1', { status: 'closed', filled: 0.01, avgPrice: 29_990 })], { kind: 'order', status: 'closed', filled: 0.01, avgPrice: 29_990 }],
    ['an order matched by exchange id only', [local('c1', 'O1')], [exOrder('O1', null, { status: 'canceled' })], { kind: 'order', clientId: 'c1', status: 'canceled' }],
  ])('updates %s', (_n, orders, exOrders, update) => {
    const r = run({ orders }, { orders: exOrders });
    expect(r.unexplained).toEqual([]);
    expect(r.updates).toEqual([expect.objectContaining(update)]);
  });

  it('a pending order the exchange does not have was not placed', () => {
    expect(run({ orders: [local('c1', null, 'pending'), local('c2', null, 'unknown')] }, {}).updates).toEqual([
      { kind: 'not_placed', clientId: 'c1' },
      { kind: 'not_placed', clientId: 'c2' },
    ]);
  });

  it('terminal local orders outside the exchange window are not flagged', () => {
    expect(run({ orders: [local('c1', 'O1', 'closed', 0.01), local('c2', null, 'rejected')] }, {})).toEqual({ matched: [], updates: [], unexplained: [] });
  });

  it('an order recorded as not placed that landed after all is ours: its state comes from the exchange', () => {
    const r = run({ orders: [local('c1', null, 'rejected')] }, { orders: [exOrder('O1', 'c1', { status: 'closed', filled: 0.01 })] });
    expect(r.unexplained).toEqual([]);
    expect(r.updates).toEqual([expect.objectContaining({ kind: 'order', clientId: 'c1', exchangeId: 'O1', status: 'closed' })]);
  });

  it('a conditional close spawned by one of our entries is explained as a child', () => {
    const r = run({ orders: [local('c1', 'O1', 'closed', 0.01)] }, { orders: [exOrder('O2', null, { side: 'sell', type: 'stop-loss', parentId: 'O1' }), exOrder('O1', 'c1', { status: 'closed', filled: 0.01 })] });
    expect(r.unexplained).toEqual([]);
    expect(r.updates).toEqual([expect.objectContaining({ kind: 'child', parentClientId: 'c1', order: expect.objectContaining({ id: 'O2' }) })]);
  });

  it.each([
    ['an exchange order nobody here placed', {}, { orders: [exOrder('OX', null)] }, 'unknown_order'],
    ['an exchange order with a foreign cl_ord_id', { orders: [local('c1', 'O1')] }, { orders: [exOrder('O1', 'c1'), exOrder('OX', 'someone-else')] }, 'unknown_order'],
    ['two exchange orders for one client id', { orders: [local('c1', 'O1')] }, { orders: [exOrder('O1', 'c1'), exOrder('O2', 'c1')] }, 'duplicate_client_id'],
    ['a locally open order missing on the exchange', { orders: [local('c1', 'O1')] }, {}, 'missing_order'],
    ['more filled locally than on the exchange', { orders: [local('c1', 'O1', 'open', 0.01)] }, { orders: [exOrder('O1', 'c1', { filled: 0.005 })] }, 'fill_mismatch'],
    ['a fill of an order that is not ours', {}, { fills: [fill('T1', 'OX')] }, 'unknown_fill'],
    ['a local fill the exchange does not have', { orders: [local('c1', 'O1')], fills: [{ id: 'T9', orderId: 'O1', amount: 0.01 }] }, { orders: [exOrder('O1', 'c1')] }, 'missing_fill'],
    ['a balance that fills do not explain', { balances: { USD: 1000 } }, { balances: { USD: { total: 990, hold: 0, free: 990 } } }, 'balance_mismatch'],
  ] as const)('flags %s as unexplained', (_n, loc, ex, kind) => {
    const r = run(loc as Partial<ReconcileInput['local']>, ex as Partial<ReconcileInput['exchange']>);
    expect(r.unexplained.map((u) => u.kind)).toContain(kind);
  });

  it('new fills of our orders are updates and explain the balance change', () => {
    const r = run(
      { orders: [local('c1', 'O1')], balances: { USD: 1000, BTC: 0 } },
      {
        orders: [exOrder('O1', 'c1', { status: 'closed', filled: 0.01 })],
        fills: [fill('T1', 'O1', { price: 30_000, amount: 0.01, fee: 0.78 })],
        balances: { USD: { total: 1000 - 300 - 0.78, hold: 0, free: 699.22 }, BTC: { total: 0.01, hold: 0, free: 0.01 } },
      },
    );
    expect(r.unexplained).toEqual([]);
    expect(r.updates).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'fill', clientId: 'c1', fill: expect.objectContaining({ id: 'T1' }) })]));
  });

  it('fills already stored locally are not updates', () => {
    const r = run({ orders: [local('c1', 'O1', 'closed', 0.01)], fills: [{ id: 'T1', orderId: 'O1', amount: 0.01 }] }, { orders: [exOrder('O1', 'c1', { status: 'closed', filled: 0.01 })], fills: [fill('T1', 'O1')] });
    expect(r).toEqual({ matched: ['c1'], updates: [], unexplained: [] });
  });
});

describe('ownMoves: what the last job left resting explains the exchange now', () => {
  const stop = exOrder('S1', 'c-stop', { side: 'sell', type: 'stop-loss', amount: 0.5, price: 28_000 });
  const tp = exOrder('T1', 'c-tp', { pair: 'ETH/USD', side: 'sell', type: 'take-profit', amount: 2, price: 2_500 });
  const bal = (o: Record<string, number>): Balances => Object.fromEntries(Object.entries(o).map(([a, total]) => [a, { total, hold: 0, free: total }]));
  const left = { open: [stop, tp], balances: bal({ USD: 1_000, BTC: 0.5, ETH: 2 }) };

  it.each([
    ['nothing moved', [stop, tp], { USD: 1_000, BTC: 0.5, ETH: 2 }],
    ['a stop filled: it left the book, its base down, USD up', [tp], { USD: 14_900, BTC: 0, ETH: 2 }],
    ['both filled', [], { USD: 19_800, BTC: 0, ETH: 0 }],
    ['a stop filled in part (still open, more filled)', [{ ...stop, filled: 0.2 }, tp], { USD: 6_500, BTC: 0.3, ETH: 2 }],
    ['a stop Kraken cancelled: gone, balances as they were', [tp], { USD: 1_000, BTC: 0.5, ETH: 2 }],
  ])('%s: trade first', (_n, open, balances) => {
    expect(ownMoves(left, open, bal(balances))).toBe(true);
  });

  it.each([
    ['an order nobody left resting', [stop, tp, exOrder('X1', null, { side: 'sell', amount: 0.1 })], { USD: 1_000, BTC: 0.5, ETH: 2 }],
    ['a deposit, no order moved', [stop, tp], { USD: 1_250, BTC: 0.5, ETH: 2 }],
    ['an asset no moved order trades', [tp], { USD: 14_900, BTC: 0, ETH: 1.5 }],
    ['a balance the wrong way for the sale (USD down)', [tp], { USD: 900, BTC: 0, ETH: 2 }],
    ['a resting order changed (its price)', [{ ...stop, price: 27_000 }, tp], { USD: 1_000, BTC: 0.5, ETH: 2 }],
    ['less filled than before', [{ ...stop, filled: 0 }, tp], { USD: 1_000, BTC: 0.5, ETH: 2 }, [{ ...stop, filled: 0.1 }, tp]],
    ['a new asset', [tp], { USD: 14_900, BTC: 0, ETH: 2, SOL: 3 }],
  ])('%s: compare before trading', (_n, open, balances, wasOpen = left.open) => {
    expect(ownMoves({ ...left, open: wasOpen }, open, bal(balances))).toBe(false);
  });
});
