import { describe, expect, it } from 'vitest';
import { adminHalt, adminReset, heldUntilReset, nextTradingState, transitionActions, utcDayStart, type TradingState } from '../../../lib/risk/drawdown.ts';
import { settings } from './fixtures.ts';

const DAY = Date.UTC(2026, 11, 1); // 2026-12-01T00:00Z
const H = 3_600_000;
const s = settings(); // soft 3 %, hard 5 %
const step = (prev: TradingState | null, equity: number, now: number, dayStartEquity = 100_000) =>
  nextTradingState(prev, { equity, dayStartEquity, dayStartTime: utcDayStart(now), now, settings: s });

describe('adminHalt (the kill switch)', () => {
  const halted = adminHalt(step(null, 100_000, DAY + H), { now: DAY + 2 * H, by: 'ops@example.com', note: 'exchange incident' });

  it('halts at once, naming who and why', () => {
    expect(halted).toMatchObject({ state: 'HALTED', since: DAY + 2 * H, dayKey: '2026-12-01', reason: 'admin halt by ops@example.com: exchange incident' });
    expect(heldUntilReset(halted)).toBe(true);
    expect(adminHalt({ ...halted, state: 'REDUCING', reason: 'daily drawdown 3%' }, { now: DAY, by: 'a', note: 'n' }).reason).toBe('admin halt by a (was REDUCING): n');
  });

  it('outlives the UTC day, a gain included, with no new transition to record', () => {
    const nextDay = step(halted, 120_000, DAY + 26 * H);
    expect(nextDay).toMatchObject({ state: 'HALTED', reason: halted.reason, dayKey: '2026-12-01' });
    expect(transitionActions(halted, nextDay, s)).toEqual({ cancelEntries: false, flatten: false });
    expect(step(nextDay, 120_000, DAY + 30 * 24 * H).state).toBe('HALTED');
  });

  it('a drawdown halt is not held: the next UTC day lifts it, as before', () => {
    const dd = step(null, 94_000, DAY + H);
    expect(dd.state).toBe('HALTED');
    expect(heldUntilReset(dd)).toBe(false);
    expect(step(dd, 94_000, DAY + 26 * H, 94_000)).toMatchObject({ state: 'ACTIVE', reason: 'UTC day rollover' });
  });

  it('an admin reset ends it', () => {
    const reset = adminReset(halted, { now: DAY + 3 * H, equity: 100_000, userId: 'u-1', note: 'over' });
    expect(reset.state).toBe('ACTIVE');
    expect(heldUntilReset(reset)).toBe(false);
    expect(step(reset, 100_000, DAY + 26 * H).state).toBe('ACTIVE');
  });
});
