import { describe, expect, it } from 'vitest';
import { isDecisionTime, signalFresh, targetPosition } from '../../../lib/strategy/target.ts';
import { tradingSettingsSchema } from '../../../lib/strategy/settings.ts';
import { H, signal, T } from './fixtures.ts';

const s = tradingSettingsSchema.parse({}); // enter ≥ 0.5, exit ≤ 0.47, 3 positions, 2 bars fresh, 1h bars, decisions daily at 00:00 UTC

describe('targetPosition', () => {
  it.each([
    ['flat, probUp at entry threshold', signal(0.5), false, 0, 'enter'],
    ['flat, probUp under entry threshold', signal(0.49), false, 0, 'stay-flat'],
    ['flat, sideways regime may enter', signal(0.7, 'sideways'), false, 0, 'enter'],
    ['flat, bear regime never enters', signal(0.9, 'bear'), false, 0, 'stay-flat'],
    ['flat, all position slots used', signal(0.9), false, 3, 'stay-flat'],
    ['flat, no signal', null, false, 0, 'stay-flat'],
    ['flat, stale signal (3 bars old)', signal(0.9, 'bull', T - 3 * H), false, 0, 'stay-flat'],
    ['flat, signal from the future', signal(0.9, 'bull', T), false, 0, 'stay-flat'],
    ['holding, probUp at exit threshold', signal(0.47), true, 1, 'exit'],
    ['holding, probUp in the hysteresis band', signal(0.49), true, 1, 'hold'],
    ['holding, bear regime alone does not exit', signal(0.5, 'bear'), true, 1, 'hold'],
    ['holding, stale signal holds (the stop protects)', signal(0.1, 'bull', T - 5 * H), true, 1, 'hold'],
    ['holding, no signal', null, true, 1, 'hold'],
  ])('%s → %s', (_name, sig, holding, open, action) => {
    const t = targetPosition(sig, holding, open, T, s);
    expect(t.action).toBe(action);
    expect(t.reason.length).toBeGreaterThan(0);
  });

  it.each([
    ['flat: a strong signal an hour after the decision opens nothing', signal(0.9, 'bull', T), false, 'stay-flat'],
    ['holding: a weak signal an hour after the decision closes nothing (the stop protects)', signal(0.1, 'bull', T), true, 'hold'],
  ])('between decisions, %s', (_name, sig, holding, action) => {
    const t = targetPosition(sig, holding, 0, T + H, s);
    expect(t).toEqual({ action, reason: 'between decisions' });
  });

  it.each([
    [T, 86_400, true],
    [T + H, 86_400, false],
    [T + 23 * H, 86_400, false],
    [T + 24 * H, 86_400, true],
    [T + 4 * H, 14_400, true],
    [T + 5 * H, 14_400, false],
    [T + 5 * H, 3600, true],
  ])('isDecisionTime(T + %d ms, every %d s) = %s', (now, decisionInterval, want) => expect(isDecisionTime(now, { decisionInterval })).toBe(want));

  it('bear entries can be allowed by setting', () => {
    expect(targetPosition(signal(0.9, 'bear'), false, 0, T, { ...s, allowBearEntries: true }).action).toBe('enter');
  });

  it.each([
    [T - H, true], // closed exactly now
    [T - 2 * H, true], // closed an hour ago
    [T - 3 * H, false], // closed two bars ago = maxSignalAgeBars
  ])('signalFresh(time %d) = %s', (time, fresh) => expect(signalFresh(signal(0.7, 'bull', time), T, s)).toBe(fresh));
});
