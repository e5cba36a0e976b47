import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { readCandlesCsv } from '../../../lib/market/csv.ts';
import { missingBefore, validateSeries } from '../../../lib/market/validate.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** A calm hourly series: price drifts by ±0.2 %, bars span 0.6 %. */
const calm = (n: number, pair = 'BTC/USD'): Candle[] =>
  Array.from({ length: n }, (_, i) => {
    const open = 100 * (1 + 0.002 * Math.sin(i));
    const close = 100 * (1 + 0.002 * Math.sin(i + 1));
    return { pair, interval: 3600, openTime: T0 + i * H, open, close, high: Math.max(open, close) * 1.003, low: Math.min(open, close) * 0.997, volume: 10 };
  });
const at = (s: Candle[], i: number, patch: Partial<Candle>): Candle[] => s.map((c, j) => (j === i ? { ...c, ...patch } : c));

describe('validateSeries', () => {
  const base = calm(40);
  it.each<[string, Candle[], string]>([
    ['high below the body', at(base, 30, { high: base[30]!.open * 0.99 }), 'high < max(open, close)'],
    ['low above the body', at(base, 30, { low: base[30]!.close * 1.01 + 1 }), 'low > min(open, close)'],
    ['a zero price', at(base, 30, { low: 0 }), 'non-positive price'],
    ['negative volume', at(base, 30, { volume: -1 }), 'negative volume'],
    ['NaN close', at(base, 30, { close: Number.NaN }), 'non-finite field'],
    ['misaligned open time', at(base, 30, { openTime: base[30]!.openTime + 60_000 }), 'is not a multiple of 3600s'],
    ['duplicate open time', at(base, 30, { openTime: base[29]!.openTime }), 'duplicate open time'],
    ['time going backwards', at(base, 30, { openTime: base[10]!.openTime }), 'time goes backwards'],
    ['another pair mixed in', at(base, 30, { pair: 'ETH/USD' }), 'series mixes BTC/USD'],
  ])('rejects %s with a reason', (_name, series, reason) => {
    const v = validateSeries(series);
    expect(v.rejected).toBe(1);
    expect(v.candles).toHaveLength(39);
    expect(v.issues).toEqual([
      expect.objectContaining({ kind: 'rejected', openTime: series[30]!.openTime, reason: expect.stringContaining(reason) }),
      { kind: 'gap', openTime: series[31]!.openTime, missing: 1 }, // the rejected bar leaves a hole
    ]);
  });

  it.each<[string, Candle[], { gaps: number; missing: number; outliers: number; flags: string[] }]>([
    ['a clean series', base, { gaps: 0, missing: 0, outliers: 0, flags: [] }],
    ['three missing bars', base.filter((_, i) => i < 30 || i > 32), { gaps: 1, missing: 3, outliers: 0, flags: ['gap_before:3'] }],
    ['a flash-crash wick (kept)', at(base, 30, { low: 60 }), { gaps: 0, missing: 0, outliers: 1, flags: ['outlier'] }],
    // A single bad close: the jump out and the move back are both far outside the usual close-to-close moves.
    ['a close far out (kept)', at(base, 30, { close: 140, high: 140.5 }), { gaps: 0, missing: 0, outliers: 2, flags: ['outlier', 'outlier'] }],
    ['a normal 1 % bar (not an outlier)', at(base, 30, { high: base[30]!.high * 1.01 }), { gaps: 0, missing: 0, outliers: 0, flags: [] }],
  ])('%s', (_name, series, want) => {
    const v = validateSeries(series);
    expect(v.rejected).toBe(0);
    expect({ gaps: v.gaps, missing: v.missingBars, outliers: v.outliers }).toEqual({ gaps: want.gaps, missing: want.missing, outliers: want.outliers });
    expect(v.candles).toHaveLength(series.length);
    const flagged = v.candles.filter((c) => c.flags.length > 0);
    expect(flagged.flatMap((c) => c.flags)).toEqual(want.flags);
  });

  it('keeps and flags the real ETH 2021-02-22 14:00 wick (low 700 against ~1 720)', () => {
    const eth = readCandlesCsv(new URL('../../../data/ohlcv/kraken_ETHUSD_1h.csv', import.meta.url).pathname, 'ETH/USD');
    const v = validateSeries(eth);
    const wick = v.candles.find((c) => c.openTime === Date.parse('2021-02-22T14:00:00Z'))!;
    expect(wick).toMatchObject({ low: 700, close: 1759.4, flags: ['outlier'] });
    expect(v.rejected).toBe(0);
    expect(v.candles).toHaveLength(eth.length);
    expect(v.outliers).toBeLessThan(10); // rare: real but unusual bars, not every volatile hour
    expect(v.gaps).toBe(3); // the recorded outages in SOURCES.md
  });

  it('uses context: continuity across batches and a warm outlier window', () => {
    const s = calm(60);
    const withGap = validateSeries([s[45]!, s[46]!], { context: s.slice(0, 40) });
    expect(withGap.candles[0]!.flags).toEqual(['gap_before:5']);
    expect(missingBefore(withGap.candles[0]!.flags)).toBe(5);
    const dup = validateSeries([s[39]!, s[40]!], { context: s.slice(0, 40) });
    expect(dup.rejected).toBe(1);
    const wick = validateSeries([{ ...s[40]!, low: 50 }], { context: s.slice(0, 40) });
    expect(wick.candles[0]!.flags).toEqual(['outlier']);
    expect(validateSeries([{ ...s[40]!, low: 50 }]).outliers).toBe(0); // no history, no judgement
  });

  it('can skip the alignment rule (CoinGecko 4-day bars)', () => {
    const odd = calm(3).map((c) => ({ ...c, interval: 345_600, openTime: T0 + 1000 + (c.openTime - T0) * 96 }));
    expect(validateSeries(odd).rejected).toBe(3 - 1 + 1); // misaligned: every bar
    expect(validateSeries(odd, { requireAligned: false }).rejected).toBe(0);
  });
});

describe('validateSeries properties', () => {
  it('every input bar is either kept or rejected; kept bars are sane, aligned and strictly increasing', () => {
    const bar = fc.record({
      slot: fc.integer({ min: 0, max: 60 }),
      shift: fc.constantFrom(0, 0, 0, 0, 60_000),
      open: fc.double({ min: -1, max: 200, noNaN: true }),
      close: fc.double({ min: 0.01, max: 200, noNaN: true }),
      up: fc.double({ min: -5, max: 50, noNaN: true }),
      down: fc.double({ min: -5, max: 50, noNaN: true }),
      volume: fc.double({ min: -1, max: 100, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(bar, { maxLength: 80 }), (raw) => {
        const input: Candle[] = raw.map((r) => ({
          pair: 'BTC/USD',
          interval: 3600,
          openTime: T0 + r.slot * H + r.shift,
          open: r.open,
          close: r.close,
          high: Math.max(r.open, r.close) + r.up,
          low: Math.min(r.open, r.close) - r.down,
          volume: r.volume,
        }));
        const v = validateSeries(input);
        expect(v.candles.length + v.rejected).toBe(input.length);
        expect(v.issues.filter((i) => i.kind === 'rejected')).toHaveLength(v.rejected);
        for (const [i, c] of v.candles.entries()) {
          expect(c.low).toBeGreaterThan(0);
          expect(c.high).toBeGreaterThanOrEqual(Math.max(c.open, c.close));
          expect(c.low).toBeLessThanOrEqual(Math.min(c.open, c.close));
          expect(c.volume).toBeGreaterThanOrEqual(0);
          expect(c.openTime % (3600 * 1000)).toBe(0);
          if (i > 0) {
            const prev = v.candles[i - 1]!;
            expect(c.openTime).toBeGreaterThan(prev.openTime);
            expect(missingBefore(c.flags)).toBe((c.openTime - prev.openTime) / H - 1);
          }
        }
        expect(v.missingBars).toBe(v.candles.reduce((s, c) => s + missingBefore(c.flags), 0));
      }),
      { numRuns: 300 },
    );
  });
});
