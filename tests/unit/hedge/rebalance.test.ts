import { describe, expect, it } from 'vitest';
import { hedgeIntents, hedgeRatio, planRebalance, type RebalanceInput } from '../../../lib/hedge/index.ts';
import { checkOrder, riskSettingsSchema } from '../../../lib/risk/index.ts';
import { clientId } from '../../../lib/strategy/clientId.ts';
import { MARKETS } from '../risk/fixtures.ts';

const T = Date.UTC(2026, 11, 1, 12);
// 100k equity: 10k cash, 60k BTC (1.2 @ 50k), 30k ETH (12 @ 2.5k): 10 % hedged.
const input = (over: Partial<RebalanceInput> = {}): RebalanceInput => ({
  holdings: [
    { pair: 'BTC/USD', qty: 1.2, price: 50_000 },
    { pair: 'ETH/USD', qty: 12, price: 2_500 },
  ],
  cash: 10_000,
  targetRatio: 0.3,
  tolerance: 0.03,
  instrument: 'USD',
  markets: MARKETS,
  weights: null,
  prices: {},
  slippage: {},
  defaultSlippage: 0.0005,
  ...over,
});
const FEE = 0.0026 + 0.0005;

describe('hedgeRatio', () => {
  it('counts USD and stablecoins as hedge', () => {
    expect(hedgeRatio([{ pair: 'BTC/USD', qty: 1, price: 60 }, { pair: 'USDC/USD', qty: 30, price: 1 }], 10, MARKETS)).toEqual({ equity: 100, hedgeValue: 40, ratio: 0.4 });
  });
});

describe('planRebalance', () => {
  it('raises USD by selling pro rata to holding value, grossed up for costs', () => {
    const p = planRebalance(input());
    expect(p.actualRatio).toBeCloseTo(0.1, 12);
    expect(p.legs.map((l) => [l.pair, l.side])).toEqual([
      ['BTC/USD', 'sell'],
      ['ETH/USD', 'sell'],
    ]);
    // 20k to raise: 2/3 from BTC, 1/3 from ETH, each / (1 − fee − slippage)
    expect(p.legs[0]!.amount).toBeCloseTo((20_000 * (2 / 3)) / (1 - FEE) / 50_000, 7);
    expect(p.legs[1]!.amount).toBeCloseTo((20_000 * (1 / 3)) / (1 - FEE) / 2_500, 7);
    const proceeds = p.legs.reduce((s, l) => s + l.usd * (1 - FEE), 0);
    expect(proceeds).toBeGreaterThan(19_999);
    expect(proceeds).toBeLessThan(20_001);
  });

  it('does nothing inside the tolerance', () => {
    expect(planRebalance(input({ targetRatio: 0.12 })).legs).toEqual([]);
  });

  it('lowers USD by buying back at the strategy weights, within the cash on hand', () => {
    const p = planRebalance(input({ cash: 40_000, holdings: [{ pair: 'BTC/USD', qty: 1.2, price: 50_000 }], targetRatio: 0.1, weights: { 'BTC/USD': 0.5, 'SOL/USD': 0.5, 'USDC/USD': 1 }, prices: { 'SOL/USD': 100 } }));
    // equity 100k, hedge 40 % → 10 %: deploy 30k, half each (the stablecoin weight is ignored)
    expect(p.legs.map((l) => [l.pair, l.side])).toEqual([
      ['BTC/USD', 'buy'],
      ['SOL/USD', 'buy'],
    ]);
    expect(p.legs[0]!.amount).toBeCloseTo(15_000 / (50_000 * (1 + FEE)), 7);
    expect(p.legs[1]!.amount).toBeCloseTo(15_000 / (100 * (1 + FEE)), 5);
  });

  it('without weights, buys back at the current holding weights', () => {
    const p = planRebalance(input({ cash: 40_000, holdings: [{ pair: 'BTC/USD', qty: 0.8, price: 50_000 }, { pair: 'ETH/USD', qty: 8, price: 2_500 }], targetRatio: 0.1 }));
    expect(p.legs[0]!.usd / p.legs[1]!.usd).toBeCloseTo(2, 4);
  });

  it('with nothing to buy into, reports it instead of guessing', () => {
    const p = planRebalance(input({ cash: 100_000, holdings: [], targetRatio: 0.1 }));
    expect(p.legs).toEqual([]);
    expect(p.skipped).toEqual([{ pair: '*', reason: 'no strategy weights to buy back into' }]);
  });

  it('skips dust legs under the exchange minimum', () => {
    const p = planRebalance(input({ holdings: [{ pair: 'BTC/USD', qty: 1.8, price: 50_000 }, { pair: 'SOL/USD', qty: 0.05, price: 100 }] }));
    expect(p.legs.map((l) => l.pair)).toEqual(['BTC/USD']);
    expect(p.skipped[0]).toMatchObject({ pair: 'SOL/USD' });
    expect(p.skipped[0]!.reason).toContain('dust');
  });

  it('with a stablecoin instrument, parks cash in the coin while selling risk', () => {
    const p = planRebalance(input({ instrument: 'USDC/USD', holdings: [{ pair: 'BTC/USD', qty: 1.8, price: 50_000 }, { pair: 'USDC/USD', qty: 0, price: 1 }] }));
    expect(p.legs.map((l) => [l.pair, l.side])).toEqual([
      ['BTC/USD', 'sell'],
      ['USDC/USD', 'buy'],
    ]);
    expect(p.legs[1]!.amount).toBeCloseTo(Math.floor((10_000 / (1 + FEE)) * 100) / 100, 2);
  });

  it('with a stablecoin instrument, sells the coin only for what cash cannot cover', () => {
    const p = planRebalance(input({ instrument: 'USDC/USD', cash: 5_000, targetRatio: 0.1, holdings: [{ pair: 'BTC/USD', qty: 1.2, price: 50_000 }, { pair: 'USDC/USD', qty: 35_000, price: 1 }] }));
    // hedge 40 % → 10 %: 30k to deploy, 5k from cash now, 25k of USDC sold for the next cycle
    expect(p.legs.find((l) => l.pair === 'USDC/USD')).toMatchObject({ side: 'sell' });
    expect(p.legs.find((l) => l.pair === 'USDC/USD')!.amount).toBeCloseTo(25_000 / (1 - FEE), 1);
    expect(p.legs.find((l) => l.pair === 'BTC/USD')!.usd).toBeLessThanOrEqual(5_000);
  });

  it('becomes hedge intents that go through the risk engine', () => {
    const plan = planRebalance(input());
    const intents = hedgeIntents(plan, 'director-2', T);
    expect(intents.map((i) => [i.kind, i.order.clientId])).toEqual([
      ['hedge', clientId('director-2', 'BTC/USD', T, 'hedge')],
      ['hedge', clientId('director-2', 'ETH/USD', T, 'hedge')],
    ]);
    expect(intents[0]!.reason).toContain('10.0% → 30.0%');
    const v = checkOrder(intents[0]!, {
      settings: riskSettingsSchema.parse({}),
      tradingState: 'HALTED', // hedge sells still go through
      balances: { USD: { total: 10_000, hold: 0, free: 10_000 }, BTC: { total: 1.2, hold: 0, free: 1.2 } },
      resting: {},
      positions: { 'BTC/USD': { qty: 1.2, avgPrice: 40_000, markPrice: 50_000 } },
      prices: { 'BTC/USD': 50_000 },
      equity: 100_000,
      markets: MARKETS,
      groupOf: {},
      slippage: {},
    });
    expect(v).toMatchObject({ ok: true, order: { side: 'sell', amount: intents[0]!.order.amount } });
  });
});
