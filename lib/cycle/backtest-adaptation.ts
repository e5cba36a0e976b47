import { parseCron, type CronSchedule } from '../runtime/cron.ts';
import { riskSettingsSchema } from '../risk/settings.ts';
import { DEFAULT_ADAPTATION_POLICY, adaptThresholds, closedTradesFromFills, type AdaptationPolicy, type AdaptiveThresholds } from '../strategy/adaptation.ts';
import { tradingSettingsSchema } from '../strategy/settings.ts';
import type { AccountSettingsSet } from './types.ts';
import type { TradeRow } from './backtest.ts';

/**
 * The nightly adaptation inside the backtest, as live runs it: the train job (stack.yml's `train`
 * schedule, UTC) adapts every account from its fills booked by then — the same pure
 * closedTradesFromFills and adaptThresholds as lib/ml/adapt-accounts.ts — and the cycles after it
 * trade with the new settings. Here the change applies from the first decision time after the
 * schedule fired (live: the first order job after the train job finished, which with a 30-minute
 * budget at 02:30 is the 03:00 bar's as well). The evidence is each account's trades closed up to the
 * firing time, and only those opened under the values in force (since the last change).
 */
export interface BacktestAdaptation {
  /** 5-field cron (UTC) of the live train job, e.g. "30 2 * * *". */
  cron: string;
  policy?: AdaptationPolicy;
}

/** One change the backtest applied, for report.json. */
export interface AppliedAdaptation {
  at: number; // when the schedule fired
  before: AdaptiveThresholds;
  after: AdaptiveThresholds;
  reasons: string[];
  trades: number;
}

const DAY = 86_400_000;

/** Whether the schedule's day fields match a UTC day (cron: day-of-month OR day-of-week when both are restricted). */
function dayMatches(c: CronSchedule, day: Date): boolean {
  if (!c.month.includes(day.getUTCMonth() + 1)) return false;
  const domAll = c.dayOfMonth.length === 31;
  const dowAll = c.dayOfWeek.length === 7;
  const dom = c.dayOfMonth.includes(day.getUTCDate());
  const dow = c.dayOfWeek.includes(day.getUTCDay());
  if (domAll || dowAll) return dom && dow;
  return dom || dow;
}

/** The latest time in (after, upTo] at which the schedule fires (UTC, whole minutes), or null. */
export function lastFiring(c: CronSchedule, after: number, upTo: number): number | null {
  if (!(Number.isFinite(after) && Number.isFinite(upTo)) || upTo <= after) return null;
  for (let day = Math.floor(upTo / DAY) * DAY; day + DAY > after; day -= DAY) {
    if (!dayMatches(c, new Date(day))) continue;
    for (let h = c.hour.length - 1; h >= 0; h--)
      for (let m = c.minute.length - 1; m >= 0; m--) {
        const t = day + c.hour[h]! * 3_600_000 + c.minute[m]! * 60_000;
        if (t > after && t <= upTo) return t;
      }
  }
  return null;
}

const thresholdsOf = (s: AccountSettingsSet): AdaptiveThresholds => ({
  entry: s.trading.entryThreshold,
  exit: s.trading.exitThreshold,
  slMultiplier: s.risk.slAtrMultiple,
  tpMultiplier: s.risk.tpAtrMultiple,
});

/** One account's adaptation state through a backtest. */
export class AccountAdapter {
  private readonly schedule: CronSchedule;
  private readonly policy: AdaptationPolicy;
  /** When the values in force took effect: the start, then each change. */
  private since = Number.NEGATIVE_INFINITY;
  readonly applied: AppliedAdaptation[] = [];

  constructor(
    private readonly accountId: string,
    config: BacktestAdaptation,
  ) {
    this.schedule = parseCron(config.cron);
    this.policy = config.policy ?? DEFAULT_ADAPTATION_POLICY;
  }

  /**
   * Runs the adaptation if the schedule fired in (prev, now], on the account's trades up to the
   * firing time; returns the settings to trade with from `now` on (the same object when unchanged).
   * Settings are validated as putSettings validates them live.
   */
  step(prev: number, now: number, settings: AccountSettingsSet, trades: readonly TradeRow[]): AccountSettingsSet {
    const at = lastFiring(this.schedule, prev, now);
    if (at === null) return settings;
    const fills = [];
    for (const t of trades)
      if (t.account === this.accountId && t.time <= at)
        fills.push({ time: t.time, pair: t.pair, side: t.side, qty: t.qty, price: t.price, fee: t.feeUsd, realizedPnl: t.realizedPnlUsd, order: t.orderId, cause: t.cause });
    const r = adaptThresholds(this.accountId, thresholdsOf(settings), closedTradesFromFills(fills), this.policy, this.since);
    if (!r.change) return settings;
    const a = r.change.after;
    this.applied.push({ at, before: r.change.before, after: a, reasons: r.change.reasons, trades: r.stats.trades });
    this.since = at;
    return {
      ...settings,
      trading: tradingSettingsSchema.parse({ ...settings.trading, entryThreshold: a.entry, exitThreshold: a.exit }),
      risk: riskSettingsSchema.parse({ ...settings.risk, slAtrMultiple: a.slMultiplier, tpAtrMultiple: a.tpMultiplier }),
    };
  }
}
