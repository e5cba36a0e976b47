import type { MarketSpec, OrderRequest } from '../exchange/types.ts';
import { requiredEdge } from '../risk/costs.ts';
import type { RiskSettings } from '../risk/settings.ts';
import { annualiseVol, positionSize } from '../risk/sizing.ts';
import { checkStops, computeStops, trailStop, type Bar } from '../risk/stops.ts';
import { clientId } from './clientId.ts';
import type { OrderIntent, SignalRef } from './intent.ts';
import type { TradingSettings } from './settings.ts';
import type { Signal } from './signal.ts';
import { targetPosition } from './target.ts';

/** A long the account holds in a pair, with its recorded protection. */
export interface HeldPosition {
  qty: number;
  avgPrice: number;
  stopLoss: number;
  takeProfit: number | null;
}

export interface DecideInput {
  accountId: string;
  pair: string;
  decisionTime: number;
  signal: Signal | null;
  position: HeldPosition | null;
  /** The latest closed bar, to enforce stop and take-profit on its range; null → the mark only. */
  lastBar: Bar | null;
  /** Mark price now. */
  price: number;
  equity: number;
  /** Positions the account holds across all pairs (for maxOpenPositions). */
  openPositions: number;
  market: MarketSpec;
  slippage: number;
  trading: TradingSettings;
  risk: RiskSettings;
}

const ref = (s: Signal | null): SignalRef | null => (s === null ? null : { pair: s.pair, time: s.time, modelVersion: s.modelVersion });

function sell(i: DecideInput, kind: 'exit' | 'stop-move', extra: Partial<OrderRequest>): OrderRequest {
  return { clientId: clientId(i.accountId, i.pair, i.decisionTime, kind), pair: i.pair, side: 'sell', type: 'market', amount: i.position!.qty, ...extra };
}

/**
 * One account, one pair, one cycle: signal and position → order intents (at most one). Every
 * intent still goes through the risk engine; this only proposes.
 */
export function decide(i: DecideInput): OrderIntent[] {
  if (i.signal !== null && i.signal.pair !== i.pair) throw new RangeError(`signal for ${i.signal.pair} given to ${i.pair}`);
  const held = i.position !== null && i.position.qty > 0;
  const base = { accountId: i.accountId, decisionTime: i.decisionTime, signal: ref(i.signal), expectedEdge: 0 };

  if (held) {
    const pos = i.position!;
    const hit = checkStops(pos, i.lastBar ?? i.price) ?? checkStops(pos, i.price);
    if (hit !== null) {
      const what = hit.hit === 'stop-loss' ? `stop-loss ${pos.stopLoss}` : `take-profit ${pos.takeProfit}`;
      return [{ ...base, kind: 'exit', cause: hit.hit === 'stop-loss' ? 'stop' : 'take-profit', order: sell(i, 'exit', {}), reason: `${what} hit (≈${hit.price})` }];
    }
    const t = targetPosition(i.signal, true, i.openPositions, i.decisionTime, i.trading);
    if (t.action === 'exit') return [{ ...base, kind: 'exit', cause: 'signal', order: sell(i, 'exit', {}), reason: t.reason }];
    if (i.signal !== null) {
      const moved = trailStop(pos.stopLoss, i.price, i.signal.atrPct, i.risk);
      if (moved !== null)
        return [
          {
            ...base,
            kind: 'stop-move',
            cause: 'stop-move',
            order: sell(i, 'stop-move', { type: 'stop-loss', price: moved }),
            reason: `trail stop ${pos.stopLoss} → ${moved}`,
            replacesStop: pos.stopLoss,
          },
        ];
    }
    return [];
  }

  const t = targetPosition(i.signal, false, i.openPositions, i.decisionTime, i.trading);
  if (t.action !== 'enter') return [];
  const sig = i.signal!;
  // The risk engine refuses an entry whose expected edge does not clear the account's round trip;
  // asking for it anyway would only fill the journal with refusals.
  if (!(sig.expectedReturn >= requiredEdge(i.market.takerFee, i.slippage, i.risk.edgeMargin))) return [];
  const limit = i.trading.entryOrderType === 'limit';
  const entryPrice = limit ? i.price * (1 + i.trading.limitOffsetBps / 10_000) : i.price;
  const stops = computeStops(entryPrice, sig.atrPct, sig.regime.label, i.risk);
  const amount = positionSize(
    {
      equity: i.equity,
      price: entryPrice,
      slPct: stops.slPct,
      realisedVolAnnual: annualiseVol(sig.volatility, i.trading.candleInterval),
      takerFee: i.market.takerFee,
      slippage: i.slippage,
    },
    i.risk,
  );
  if (!(amount > 0)) return [];
  const order: OrderRequest = {
    clientId: clientId(i.accountId, i.pair, i.decisionTime, 'entry'),
    pair: i.pair,
    side: 'buy',
    type: limit ? 'limit' : 'market',
    amount,
    close: { type: 'stop-loss', price: stops.stopLoss },
  };
  if (limit) order.price = entryPrice;
  return [
    {
      ...base,
      kind: 'entry',
      cause: 'entry',
      order,
      reason: `${t.reason}; SL ${(stops.slPct * 100).toFixed(2)}% TP ${(stops.tpPct * 100).toFixed(2)}%`,
      expectedEdge: sig.expectedReturn,
      stops: { stopLoss: stops.stopLoss, takeProfit: stops.takeProfit },
    },
  ];
}

/** Sell every held position (HALTED with flattenOnHalt, or an operator's flatten). */
export function flattenIntents(accountId: string, decisionTime: number, positions: Readonly<Record<string, { qty: number }>>, reason: string): OrderIntent[] {
  const out: OrderIntent[] = [];
  for (const pair of Object.keys(positions).sort()) {
    const qty = positions[pair]!.qty;
    if (!(qty > 0)) continue;
    out.push({
      kind: 'exit',
      cause: 'halt',
      accountId,
      decisionTime,
      order: { clientId: clientId(accountId, pair, decisionTime, 'exit'), pair, side: 'sell', type: 'market', amount: qty },
      reason,
      signal: null,
      expectedEdge: 0,
    });
  }
  return out;
}
