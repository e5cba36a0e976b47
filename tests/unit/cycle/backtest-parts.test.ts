import { describe, expect, it } from 'vitest';
import { liveAdaptationCron } from '../../../bin/commands/backtest.ts';
import { AccountAdapter, lastFiring } from '../../../lib/cycle/backtest-adaptation.ts';
import { parseFeesBps } from '../../../lib/cycle/backtest-files.ts';
import { buyAndHold } from '../../../lib/cycle/backtest-report.ts';
import type { TradeRow } from '../../../lib/cycle/backtest.ts';
import type { AccountSettingsSet } from '../../../lib/cycle/types.ts';
import { hedgeSettingsSchema } from '../../../lib/hedge/settings.ts';
import { usdMarket } from '../../../lib/exchange/usd-markets.ts';
import type { Candle } from '../../../lib/market/candle.ts';
import { riskSettingsSchema } from '../../../lib/risk/settings.ts';
import { parseCron } from '../../../lib/runtime/cron.ts';
import { cronSchedules, loadStack } from '../../../lib/runtime/stack.ts';
import { DEFAULT_ADAPTATION_POLICY as P } from '../../../lib/strategy/adaptation.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.parse('2021-06-14T00:00:00Z'); // a Monday

describe('buy-and-hold', () => {
  const hourly = (pair: string, from: number, closes: number[]): Candle[] =>
    closes.map((c, i) => ({ pair, interval: 3600, openTime: from + i * H, open: c, high: c, low: c, close: c, volume: 1 }));
  const markets = [usdMarket('BTC/USD'), usdMarket('SOL/USD')];
  const fee = usdMarket('BTC/USD').takerFee;

  it('keeps a pair not listed yet in cash and buys it at its listing bar’s close, one taker fee each', () => {
    // BTC trades from the start (100 → 200); SOL lists at the third bar (close 50) and ends at 100.
    const history = { 'BTC/USD': hourly('BTC/USD', T0, [100, 100, 150, 150, 200]), 'SOL/USD': hourly('SOL/USD', T0 + 2 * H, [50, 75, 100]) };
    const ts = [1, 2, 3, 4, 5].map((k) => T0 + k * H); // decision times: the bars' closes
    const r = buyAndHold(['BTC/USD', 'SOL/USD'], history, ts, 1_000, markets);
    const btc = (500 * (1 - fee)) / 100;
    const sol = (500 * (1 - fee)) / 50;
    expect(r.total_return).toBeCloseTo((btc * 200 + sol * 100) / 1_000 - 1, 6);
    // Before SOL listed its half was cash, not lost: the first two points are 500 + BTC.
    expect(r.max_drawdown).toBeCloseTo(1 - (500 + btc * 100) / 1_000, 6);
  });

  it('a pair that never lists in the window stays cash', () => {
    const history = { 'BTC/USD': hourly('BTC/USD', T0, [100, 120]), 'SOL/USD': [] };
    const r = buyAndHold(['BTC/USD', 'SOL/USD'], history, [T0 + H, T0 + 2 * H], 1_000, markets);
    expect(r.total_return).toBeCloseTo((500 + ((500 * (1 - fee)) / 100) * 120) / 1_000 - 1, 6);
  });
});

describe('the adaptation schedule in the backtest', () => {
  const nightly = parseCron('30 2 * * *');

  it('follows the live train job: stack.yml’s `train` schedule', () => {
    const train = cronSchedules(loadStack()).find((s) => s.function === 'train')!;
    expect(liveAdaptationCron()).toBe(train.schedule);
  });

  it.each([
    ['the bar that contains 02:30 fires it', T0 + 2 * H, T0 + 3 * H, T0 + 2.5 * H],
    ['exactly at its time, inclusive', T0 + 2 * H, T0 + 2.5 * H, T0 + 2.5 * H],
    ['not the bar before', T0 + H, T0 + 2 * H, null],
    ['not the bar after', T0 + 3 * H, T0 + 4 * H, null],
    ['a three-day data gap: the latest firing', T0, T0 + 3 * DAY + 4 * H, T0 + 3 * DAY + 2.5 * H],
    ['no previous decision (the first bar): none', Number.NaN, T0 + 3 * H, null],
  ])('%s', (_label, after, upTo, want) => {
    expect(lastFiring(nightly, after, upTo)).toBe(want);
  });

  it('day fields: weekdays, and day-of-month OR day-of-week when both are given', () => {
    expect(lastFiring(parseCron('0 0 * * 1'), T0 - DAY, T0 + 6 * DAY)).toBe(T0); // Mondays only
    expect(lastFiring(parseCron('0 0 15 * 1'), T0 - DAY, T0 + 6 * DAY)).toBe(T0 + DAY); // the 15th, or a Monday
  });
});

describe('AccountAdapter', () => {
  const settings: AccountSettingsSet = {
    trading: tradingSettingsSchema.parse({ entryThreshold: 0.55, exitThreshold: 0.45 }),
    risk: riskSettingsSchema.parse({ slAtrMultiple: 2, tpAtrMultiple: 3 }),
    hedge: hedgeSettingsSchema.parse({}),
  };
  let n = 0;
  /** A losing round trip opened at `at`, closed an hour later by `cause`. */
  const roundTrip = (at: number, cause: TradeRow['cause'] = 'signal', account = 'a'): TradeRow[] => {
    const base = { account, pair: 'ETH/USD', qty: 1, clientId: `c${++n}`, reason: '' };
    return [
      { ...base, time: at, side: 'buy', price: 100, feeUsd: 0.26, realizedPnlUsd: 0, cause: 'entry', orderId: `o${n}e` },
      { ...base, time: at + H, side: 'sell', price: 98, feeUsd: 0.25, realizedPnlUsd: -2.51, cause, orderId: `o${n}x` },
    ];
  };

  it('steps at the firing after enough trades, on the trades closed by then; the same trades never step it again', () => {
    const a = new AccountAdapter('a', { cron: '30 2 * * *' });
    const trades = Array.from({ length: P.minTrades }, (_, k) => roundTrip(T0 - 3 * DAY + k * H)).flat();
    const late = roundTrip(T0 + 2.75 * H, 'stop'); // after the firing: not evidence yet
    const other = roundTrip(T0 - DAY, 'stop', 'b'); // another account's
    expect(a.step(T0 + H, T0 + 2 * H, settings, trades)).toBe(settings); // no firing in (01:00, 02:00]
    const next = a.step(T0 + 2 * H, T0 + 3 * H, settings, [...trades, ...late, ...other]);
    expect(next.trading.entryThreshold).toBeCloseTo(0.55 + P.thresholdStep, 9);
    expect(next.risk.tpAtrMultiple).toBeCloseTo(3 - P.multiplierStep, 9); // no target hit and the exits lose
    expect(next.hedge).toBe(settings.hedge);
    expect(a.applied).toHaveLength(1);
    expect(a.applied[0]).toMatchObject({ at: T0 + 2.5 * H, trades: P.minTrades });
    // The next nights, with no trade opened since: unchanged.
    for (let d = 1; d <= 5; d++) expect(a.step(T0 + d * DAY + 2 * H, T0 + d * DAY + 3 * H, next, [...trades, ...late])).toBe(next);
    expect(a.applied).toHaveLength(1);
  });

  it('refuses settings live would refuse (validated like putSettings)', () => {
    const a = new AccountAdapter('a', { cron: '30 2 * * *', policy: { ...P, bounds: { ...P.bounds, entry: [0.4, 0.9] }, minGap: 0 } });
    const low = { ...settings, trading: tradingSettingsSchema.parse({ entryThreshold: 0.5, exitThreshold: 0.49 }) };
    const winners = Array.from({ length: P.minTrades }, (_, k) => roundTrip(T0 - 3 * DAY + k * H)).flat().map((t) => (t.side === 'sell' ? { ...t, realizedPnlUsd: 5 } : t));
    // Winning trades lower the entry to 0.49: not above the exit threshold any more.
    expect(() => a.step(T0 + 2 * H, T0 + 3 * H, low, winners)).toThrow(/exitThreshold/);
  });
});

describe('--fees MAKER,TAKER (basis points)', () => {
  it.each([
    ['16,26', { maker: 0.0016, taker: 0.0026 }],
    [' 0 , 0 ', { maker: 0, taker: 0 }],
    ['2.5,10', { maker: 0.00025, taker: 0.001 }],
    ['100,100', { maker: 0.01, taker: 0.01 }],
  ])('%j', (text, want) => {
    const r = parseFeesBps(text);
    expect(r.maker).toBeCloseTo(want.maker, 12);
    expect(r.taker).toBeCloseTo(want.taker, 12);
  });

  it.each([
    ['26', /expected MAKER,TAKER/],
    ['0.16%,0.26%', /expected MAKER,TAKER/],
    ['16,26,40', /expected MAKER,TAKER/],
    ['1e1,26', /expected MAKER,TAKER/],
    ['-1,26', /maker fee -1 bps is outside 0–100 bps/],
    ['16,101', /taker fee 101 bps is outside/],
    ['26,16', /above the taker fee/],
  ])('refuses %j', (text, message) => {
    expect(() => parseFeesBps(text)).toThrow(message);
  });
});
