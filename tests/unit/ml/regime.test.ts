import { describe, expect, it } from 'vitest';
import type { Candle } from '../../../lib/market/candle.ts';
import { KNOWN_BTC_PERIODS, RegimeDetector, regimeFromTrend, regimeSeries, validateRegimes } from '../../../lib/ml/regime.ts';
import { realCandles } from './realData.ts';

describe('regimeFromTrend', () => {
  it.each([
    { s: 2, label: 'bull' },
    { s: -2, label: 'bear' },
    { s: 0, label: 'sideways' },
    { s: 0.3, label: 'sideways' },
    { s: -0.8, label: 'bear' },
  ] as const)('trend $s → $label', ({ s, label }) => {
    const e = regimeFromTrend(s);
    expect(e.label).toBe(label);
    expect(e.probs.bull + e.probs.bear + e.probs.sideways).toBeCloseTo(1, 12);
  });
  it('probabilities move monotonically with the trend', () => {
    expect(regimeFromTrend(1).probs.bull).toBeGreaterThan(regimeFromTrend(0.5).probs.bull);
    expect(regimeFromTrend(-1).probs.bear).toBeGreaterThan(regimeFromTrend(-0.5).probs.bear);
  });
});

describe('RegimeDetector on the repository BTC data', () => {
  const btc = realCandles('BTC/USD');

  it('agrees with the well-known 2021–2022 periods on most warm bars', () => {
    const r = validateRegimes(btc);
    console.info(`regime agreement ${(r.agreement * 100).toFixed(1)} % over ${r.bars} bars; ` + r.periods.map((p) => `${p.from}..${p.to} ${p.regime} ${(p.agreement * 100).toFixed(0)}%`).join(', '));
    expect(r.bars).toBeGreaterThan(8000);
    expect(r.agreement).toBeGreaterThan(0.55);
    // Every labelled period is recognised more often than a uniform 1-in-3 guess.
    for (const p of r.periods) expect(p.agreement).toBeGreaterThan(1 / 3);
    expect(r.periods.map((p) => p.regime)).toEqual(KNOWN_BTC_PERIODS.map((p) => p.regime));
  });

  it('is causal: truncating the data leaves earlier estimates unchanged', () => {
    const full = regimeSeries(btc);
    for (const cut of [800, 5000, 12_345]) expect(regimeSeries(btc.slice(0, cut))).toEqual(full.slice(0, cut));
  });

  it('warms up over the long window', () => {
    const d = new RegimeDetector();
    btc.slice(0, 720).forEach((c: Candle) => d.push(c.close));
    expect(d.estimate()).toBeNull();
    d.push((btc[720] as Candle).close);
    expect(d.estimate()).not.toBeNull();
  });
});
