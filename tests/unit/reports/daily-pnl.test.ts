import { describe, expect, it } from 'vitest';
import { dailyPnl } from '../../../lib/reports/daily-pnl.ts';
import { dayStart, defaultReportDays, utcDay } from '../../../lib/reports/daily-pnl-store.ts';

const t = (iso: string) => Date.parse(iso);

describe('dailyPnl', () => {
  it('splits at UTC midnight: 23:59:59.999 is the old day, 00:00 the new one', () => {
    const days = dailyPnl(
      [
        { ts: t('2026-01-01T10:00:00Z'), equity: 1000 },
        { ts: t('2026-01-01T23:59:59.999Z'), equity: 1010 },
        { ts: t('2026-01-02T00:00:00Z'), equity: 1020 },
        { ts: t('2026-01-02T23:00:00Z'), equity: 1005 },
      ],
      [],
    );
    expect(days.map((d) => d.day)).toEqual(['2026-01-01', '2026-01-02']);
    // The first day opens at its own first snapshot…
    expect(days[0]).toMatchObject({ startEquityUsd: 1000, endEquityUsd: 1010, pnlUsd: 10 });
    expect(days[0]!.pnlPct).toBeCloseTo(0.01, 12);
    // …later days at the previous day's close, so overnight moves are not lost.
    expect(days[1]).toMatchObject({ startEquityUsd: 1010, endEquityUsd: 1005, pnlUsd: -5 });
    expect(days[1]!.pnlPct).toBeCloseTo(-5 / 1010, 12);
  });

  it('a local-time-looking offset is still bucketed by UTC', () => {
    // 2026-01-02T01:00+02:00 is 2026-01-01T23:00Z
    const days = dailyPnl([{ ts: Date.parse('2026-01-02T01:00:00+02:00'), equity: 500 }], []);
    expect(days.map((d) => d.day)).toEqual(['2026-01-01']);
  });

  it('reports fees and trades per UTC day (equity is already net of them)', () => {
    const days = dailyPnl(
      [
        { ts: t('2026-01-01T00:00:00Z'), equity: 1000 },
        { ts: t('2026-01-01T12:00:00Z'), equity: 998.5 },
        { ts: t('2026-01-02T12:00:00Z'), equity: 999 },
      ],
      [
        { ts: t('2026-01-01T06:00:00Z'), fee: 1 },
        { ts: t('2026-01-01T23:59:59.999Z'), fee: 0.5 },
        { ts: t('2026-01-02T00:00:00Z'), fee: 0.25 },
      ],
    );
    expect(days[0]).toMatchObject({ feesUsd: 1.5, trades: 2, pnlUsd: -1.5 });
    expect(days[1]).toMatchObject({ feesUsd: 0.25, trades: 1 });
    expect(days[1]!.pnlUsd).toBeCloseTo(0.5, 12);
  });

  it('a day with one snapshot on the first day has zero PnL; no snapshots, no days', () => {
    expect(dailyPnl([{ ts: t('2026-03-01T05:00:00Z'), equity: 100 }], [])[0]).toMatchObject({ pnlUsd: 0, pnlPct: 0 });
    expect(dailyPnl([], [{ ts: 0, fee: 1 }])).toEqual([]);
  });

  it('zero starting equity gives 0 %, not NaN or Infinity', () => {
    const [d] = dailyPnl([{ ts: 0, equity: 0 }, { ts: 1000, equity: 10 }], []);
    expect(d!.pnlPct).toBe(0);
  });
});

describe('UTC days', () => {
  it.each([
    ['2026-01-05', t('2026-01-05T00:00:00Z')],
    ['2024-02-29', t('2024-02-29T00:00:00Z')],
  ])('dayStart(%s)', (d, ms) => {
    expect(dayStart(d)).toBe(ms);
    expect(utcDay(ms)).toBe(d);
  });

  it.each(['2026-02-30', '2026-13-01', '2026-1-5', 'yesterday', '2025-02-29'])('dayStart(%s) throws', (d) => {
    expect(() => dayStart(d)).toThrow(RangeError);
  });

  it('the default report days are yesterday and today, by the given time', () => {
    expect(defaultReportDays(t('2026-01-01T00:00:00Z'))).toEqual(['2025-12-31', '2026-01-01']);
    expect(defaultReportDays(t('2026-01-05T23:59:59.999Z'))).toEqual(['2026-01-04', '2026-01-05']);
  });
});
