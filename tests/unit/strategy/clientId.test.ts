import { describe, expect, it } from 'vitest';
import { clientId } from '../../../lib/strategy/clientId.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const T = Date.UTC(2026, 11, 1, 10);

describe('clientId', () => {
  it('is a 36-character version-8 UUID, stable across calls', () => {
    const id = clientId('company', 'BTC/USD', T, 'entry');
    expect(id).toMatch(UUID);
    expect(id).toHaveLength(36);
    expect(clientId('company', 'BTC/USD', T, 'entry')).toBe(id);
  });

  it('pins the derivation (a change would re-key every stored order)', () => {
    expect(clientId('company', 'BTC/USD', T, 'entry')).toBe('1979c6af-94e3-8c7c-aa4f-266688c6ac65');
  });

  it.each<[string, Parameters<typeof clientId>]>([
    ['account', ['director-1', 'BTC/USD', T, 'entry']],
    ['pair', ['company', 'ETH/USD', T, 'entry']],
    ['time', ['company', 'BTC/USD', T + 1, 'entry']],
    ['kind', ['company', 'BTC/USD', T, 'exit']],
  ])('differs when the %s differs', (_f, args) => {
    expect(clientId(...args)).not.toBe(clientId('company', 'BTC/USD', T, 'entry'));
  });

  it('field boundaries cannot be shifted to collide', () => {
    expect(clientId('a|1', 'B/USD', T, 'entry')).not.toBe(clientId('a', '1|B/USD', T, 'entry'));
  });

  it('refuses a non-integer decision time', () => {
    expect(() => clientId('company', 'BTC/USD', 1.5, 'entry')).toThrow(RangeError);
  });
});
