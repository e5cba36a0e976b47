import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adminReset, nextTradingState, transitionActions, utcDayKey, utcDayStart, type TradingState, type TradingStateName } from '../../../lib/risk/index.ts';
import { settings } from './fixtures.ts';

const DAY = Date.UTC(2026, 11, 1); // 2026-12-01T00:00Z
const H = 3_600_000;
const s = settings(); // soft 3 %, hard 5 %

const step = (prev: TradingState | null, equity: number, now: number, dayStartEquity = 100_000) =>
  nextTradingState(prev, { equity, dayStartEquity, dayStartTime: utcDayStart(now), now, settings: s });

describe('nextTradingState', () => {
  it.each<[string, TradingStateName | null, number, TradingStateName]>([
    ['flat day stays ACTIVE', 'ACTIVE', 100_000, 'ACTIVE'],
    ['a gain stays ACTIVE', 'ACTIVE', 110_000, 'ACTIVE'],
    ['2.99 % down stays ACTIVE', 'ACTIVE', 97_010, 'ACTIVE'],
    ['3 % down → REDUCING', 'ACTIVE', 97_000, 'REDUCING'],
    ['5 % down → HALTED', 'ACTIVE', 95_000, 'HALTED'],
    ['REDUCING to 5 % → HALTED', 'REDUCING', 94_000, 'HALTED'],
    ['REDUCING does not recover within the day', 'REDUCING', 100_000, 'REDUCING'],
    ['HALTED does not recover within the day', 'HALTED', 120_000, 'HALTED'],
    ['HALTED stays HALTED at a soft loss', 'HALTED', 97_000, 'HALTED'],
    ['first evaluation at a hard loss', null, 90_000, 'HALTED'],
  ])('%s', (_name, from, equity, to) => {
    const prev: TradingState | null = from === null ? null : { state: from, since: DAY + H, reason: 'x', dayKey: utcDayKey(DAY), drawdown: 0, referenceEquity: null };
    const next = step(prev, equity, DAY + 2 * H);
    expect(next.state).toBe(to);
    expect(next.dayKey).toBe('2026-12-01');
    expect(next.drawdown).toBeCloseTo(Math.max(0, (100_000 - equity) / 100_000), 12);
    if (from !== to) {
      expect(next.since).toBe(DAY + 2 * H);
      expect(next.reason).toMatch(/daily drawdown .* limit/);
    } else if (prev) expect(next.since).toBe(prev.since);
  });

  it('a new UTC day returns to ACTIVE and measures from the new day start', () => {
    const halted = step(step(null, 100_000, DAY + H), 94_000, DAY + 20 * H);
    expect(halted.state).toBe('HALTED');
    const nextDay = DAY + 24 * H + 60_000;
    const fresh = step(halted, 94_000, nextDay, 94_000);
    expect(fresh).toMatchObject({ state: 'ACTIVE', reason: 'UTC day rollover', dayKey: '2026-12-02', since: nextDay });
    // …and can escalate again the same day against the new day start.
    expect(step(fresh, 89_000, nextDay + H, 94_000).state).toBe('HALTED');
  });

  it('an admin reset re-activates and rebases the day on the equity at the reset', () => {
    const halted = step(null, 94_000, DAY + 5 * H);
    const reset = adminReset(halted, { now: DAY + 6 * H, equity: 94_000, userId: 'director-1', note: 'checked, resume' });
    expect(reset).toMatchObject({ state: 'ACTIVE', referenceEquity: 94_000, since: DAY + 6 * H });
    expect(reset.reason).toContain('director-1');
    expect(reset.reason).toContain('HALTED');
    // Not re-halted by the morning's loss; 3 % under the reset equity reduces again.
    expect(step(reset, 94_000, DAY + 7 * H).state).toBe('ACTIVE');
    expect(step(reset, 94_000 * 0.97, DAY + 7 * H).state).toBe('REDUCING');
    // The rebase ends with the day.
    expect(step(reset, 94_000, DAY + 25 * H, 94_000).referenceEquity).toBeNull();
  });

  it('refuses an admin reset without a user', () => {
    expect(() => adminReset(step(null, 94_000, DAY + H), { now: DAY + 2 * H, equity: 94_000, userId: ' ', note: '' })).toThrow(RangeError);
  });

  it.each([
    ['a day-start equity from another day', { dayStartTime: DAY - H }],
    ['a non-positive day-start equity', { dayStartEquity: 0 }],
    ['a non-finite equity', { equity: Number.NaN }],
  ])('rejects %s', (_name, over) => {
    expect(() => nextTradingState(null, { equity: 100_000, dayStartEquity: 100_000, dayStartTime: DAY, now: DAY + H, settings: s, ...over })).toThrow(RangeError);
  });

  it('a reset stamped after the bar being decided (wall time vs market time) never moves the state backwards', () => {
    const reset = adminReset(step(null, 94_000, DAY + 5 * H), { now: DAY + 6 * H + 30 * 60_000, equity: 94_000, userId: 'director-1', note: 'resume' });
    expect(step(reset, 94_000, DAY + 6 * H)).toMatchObject({ state: 'ACTIVE', since: reset.since });
    expect(step(reset, 94_000 * 0.94, DAY + 6 * H)).toMatchObject({ state: 'HALTED', since: reset.since });
  });

  it.each([
    ['a state from a later UTC day', { state: 'ACTIVE', since: DAY + 30 * H, reason: 'x', dayKey: '2026-12-02', drawdown: 0, referenceEquity: null } as TradingState, {}],
    ['a day start after the decision', null, { dayStartTime: DAY + 3 * H }],
  ])('fails closed (HALTED, never a throw) on %s', (_name, prev, over) => {
    const next = nextTradingState(prev, { equity: 100_000, dayStartEquity: 100_000, dayStartTime: DAY, now: DAY + 2 * H, settings: s, ...over });
    expect(next).toMatchObject({ state: 'HALTED', since: DAY + 2 * H, dayKey: '2026-12-01' });
    expect(next.reason).toMatch(/^inconsistent trading state/);
    // …and the next cycle goes on from it (HALTED until an admin reset).
    expect(step(next, 100_000, DAY + 3 * H).state).toBe('HALTED');
  });

  it('never de-escalates within a UTC day (property)', () => {
    const rank = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 80_000, max: 120_000 }), { minLength: 1, maxLength: 40 }), (equities) => {
        let st: TradingState | null = null;
        let worst = 0;
        equities.forEach((e, k) => {
          const next = step(st, e, DAY + k * 60_000);
          if (st) expect(rank[next.state]).toBeGreaterThanOrEqual(rank[st.state]);
          worst = Math.max(worst, (100_000 - e) / 100_000);
          const want = worst >= 0.05 ? 'HALTED' : worst >= 0.03 ? 'REDUCING' : 'ACTIVE';
          expect(next.state).toBe(want);
          st = next;
        });
      }),
    );
  });
});

describe('transitionActions', () => {
  const flatten = settings({ flattenOnHalt: true });
  const at = (state: TradingStateName, day = DAY): TradingState => ({ state, since: day, reason: '', dayKey: utcDayKey(day), drawdown: 0, referenceEquity: null });
  it.each([
    ['ACTIVE → ACTIVE', at('ACTIVE'), at('ACTIVE'), s, { cancelEntries: false, flatten: false }],
    ['ACTIVE → REDUCING', at('ACTIVE'), at('REDUCING'), flatten, { cancelEntries: true, flatten: false }],
    ['REDUCING → HALTED, no flatten setting', at('REDUCING'), at('HALTED'), s, { cancelEntries: true, flatten: false }],
    ['REDUCING → HALTED, flattenOnHalt', at('REDUCING'), at('HALTED'), flatten, { cancelEntries: true, flatten: true }],
    ['HALTED → HALTED (already acted)', at('HALTED'), at('HALTED'), flatten, { cancelEntries: false, flatten: false }],
    ['first state HALTED', null, at('HALTED'), flatten, { cancelEntries: true, flatten: true }],
  ])('%s', (_name, prev, next, st, want) => expect(transitionActions(prev, next, st)).toEqual(want));
});

describe('UTC day helpers', () => {
  it.each([
    [Date.UTC(2026, 11, 1, 23, 59, 59, 999), '2026-12-01'],
    [Date.UTC(2026, 11, 2), '2026-12-02'],
    [0, '1970-01-01'],
  ])('utcDayKey(%d) = %s', (t, key) => expect(utcDayKey(t)).toBe(key));
});
