import type { RiskSettings } from './settings.ts';

/**
 * Daily drawdown protection (R-4) as a pure state machine on the UTC day. Equity is marked to
 * market (unrealised PnL included). Within a day the state only escalates — ACTIVE → REDUCING (soft
 * threshold, exits only) → HALTED (hard threshold, no entries) — so it cannot flap around a
 * threshold; it returns to ACTIVE at the next UTC day or through an audited admin reset.
 */
export type TradingStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface TradingState {
  state: TradingStateName;
  since: number; // epoch ms of the last transition
  reason: string;
  dayKey: string; // UTC day "YYYY-MM-DD" the state belongs to
  /** Current drawdown from the reference equity, fraction (≥ 0). */
  drawdown: number;
  /** After an admin reset, drawdown is measured from the equity at the reset for the rest of the day. */
  referenceEquity: number | null;
}

export type DrawdownSettings = Pick<RiskSettings, 'softDailyDrawdown' | 'hardDailyDrawdown' | 'flattenOnHalt'>;

export interface DrawdownInput {
  equity: number;
  dayStartEquity: number; // equity at the start of the UTC day containing `now`
  dayStartTime: number; // epoch ms of that equity mark
  now: number;
  settings: DrawdownSettings;
}

const DAY_MS = 86_400_000;

/** UTC day key of an epoch-ms time. */
export function utcDayKey(t: number): string {
  const day = Math.floor(t / DAY_MS);
  // Called several times per account and bar; the day changes once in 24 of them.
  if (day !== lastDay) {
    lastDay = day;
    lastKey = new Date(day * DAY_MS).toISOString().slice(0, 10);
  }
  return lastKey;
}
let lastDay = Number.NaN;
let lastKey = '';

/** Epoch ms of the start of the UTC day containing `t`. */
export function utcDayStart(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

const RANK: Record<TradingStateName, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };

export function nextTradingState(prev: TradingState | null, i: DrawdownInput): TradingState {
  if (!Number.isFinite(i.now)) throw new RangeError(`now must be a finite epoch ms, got ${i.now}`);
  const dayKey = utcDayKey(i.now);
  if (utcDayKey(i.dayStartTime) !== dayKey) throw new RangeError(`dayStartTime ${i.dayStartTime} is not in the UTC day of now (${dayKey})`);
  if (!(i.dayStartEquity > 0)) throw new RangeError(`dayStartEquity must be > 0, got ${i.dayStartEquity}`);
  if (!Number.isFinite(i.equity)) throw new RangeError(`equity must be finite, got ${i.equity}`);
  // Stored state that cannot have come from an earlier decision (a later day: written from a
  // caller's future bar or a wrong clock) fails closed, once, instead of throwing on every cycle.
  if (prev !== null && prev.dayKey > dayKey) return inconsistent(i.now, dayKey, `the stored state belongs to ${prev.dayKey}, after this decision's day`);
  if (i.dayStartTime > i.now) return inconsistent(i.now, dayKey, `the day's reference equity is stamped ${new Date(i.dayStartTime).toISOString()}, after this decision`);

  // An admin's halt (the kill switch) outlives the UTC day: only an admin reset ends it.
  const sameDay = prev !== null && (prev.dayKey === dayKey || heldUntilReset(prev));
  const base: TradingState = sameDay
    ? prev
    : { state: 'ACTIVE', since: i.now, reason: prev === null ? 'initial' : 'UTC day rollover', dayKey, drawdown: 0, referenceEquity: null };
  const reference = base.referenceEquity ?? i.dayStartEquity;
  const drawdown = Math.max(0, (reference - i.equity) / reference);
  const s = i.settings;
  const wanted: TradingStateName = drawdown >= s.hardDailyDrawdown ? 'HALTED' : drawdown >= s.softDailyDrawdown ? 'REDUCING' : 'ACTIVE';
  if (RANK[wanted] > RANK[base.state]) {
    const limit = wanted === 'HALTED' ? s.hardDailyDrawdown : s.softDailyDrawdown;
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    return {
      state: wanted,
      // An admin reset is stamped with wall time, which may follow the close of the bar being
      // decided: the state's time never moves backwards.
      since: Math.max(i.now, base.since),
      reason: `daily drawdown ${pct(drawdown)} ≥ ${wanted === 'HALTED' ? 'hard' : 'soft'} limit ${pct(limit)}`,
      dayKey,
      drawdown,
      referenceEquity: base.referenceEquity,
    };
  }
  return base.drawdown === drawdown && base === prev ? prev : { ...base, drawdown };
}

/** HALTED on a state the machine could never have produced; an audited admin reset resumes. */
function inconsistent(now: number, dayKey: string, why: string): TradingState {
  return { state: 'HALTED', since: now, reason: `inconsistent trading state (${why}): halted until an admin reset`, dayKey, drawdown: 0, referenceEquity: null };
}

export interface AdminResetInput {
  now: number;
  equity: number; // becomes the reference for the rest of the day
  userId: string;
  note: string;
}

/**
 * An admin's reset to ACTIVE. The caller writes the audit row (who, why, from which state) in the
 * same transaction; the rest of the day's drawdown is measured from the equity at the reset.
 */
export function adminReset(prev: TradingState, r: AdminResetInput): TradingState {
  if (!(r.equity > 0)) throw new RangeError(`equity must be > 0, got ${r.equity}`);
  if (r.userId.trim() === '') throw new RangeError('adminReset needs the resetting user id');
  return {
    state: 'ACTIVE',
    since: r.now,
    reason: `admin reset by ${r.userId} from ${prev.state}: ${r.note}`,
    dayKey: utcDayKey(r.now),
    drawdown: 0,
    referenceEquity: r.equity,
  };
}

const ADMIN_HALT = 'admin halt';

/** An admin stops the account's trading now (the kill switch); the caller audits it. HALTED until an admin reset, across UTC days. */
export function adminHalt(prev: TradingState | null, h: { now: number; by: string; note: string }): TradingState {
  if (h.by.trim() === '') throw new RangeError('adminHalt needs the halting user');
  return {
    state: 'HALTED',
    since: h.now,
    reason: `${ADMIN_HALT} by ${h.by}${prev && prev.state !== 'ACTIVE' ? ` (was ${prev.state})` : ''}: ${h.note}`,
    dayKey: utcDayKey(h.now),
    drawdown: prev?.drawdown ?? 0,
    referenceEquity: prev?.referenceEquity ?? null,
  };
}

/** A halt that only an admin reset ends (the kill switch), unlike the drawdown's, which the next UTC day lifts. */
export const heldUntilReset = (s: Pick<TradingState, 'state' | 'reason'>): boolean => s.state === 'HALTED' && s.reason.startsWith(ADMIN_HALT);

/** What the cycle must do on a transition: cancel open entries on entering REDUCING/HALTED, flatten on HALTED if set. */
export function transitionActions(prev: TradingState | null, next: TradingState, s: DrawdownSettings): { cancelEntries: boolean; flatten: boolean } {
  const escalated = next.state !== 'ACTIVE' && (prev === null || RANK[next.state] > RANK[prev.state] || prev.dayKey !== next.dayKey);
  return { cancelEntries: escalated, flatten: escalated && next.state === 'HALTED' && s.flattenOnHalt };
}

/** Entries (orders that add exposure) are allowed only when ACTIVE. */
export const entriesAllowed = (s: TradingStateName): boolean => s === 'ACTIVE';
