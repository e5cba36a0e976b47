import { describe, expect, it } from 'vitest';
import { explainKeyRefusal } from '../../../ui/src/lib/key-refusal.ts';

describe('key upload refusal messages', () => {
  it('tells a rejected key, an unreachable Kraken and a key with withdrawal rights apart', () => {
    expect(explainKeyRefusal('KEYS_REFUSED', 'Kraken refused the key: AUTH: EAPI:Invalid key')).toMatch(/^Kraken rejected this key \(.*EAPI:Invalid key\)/);
    expect(explainKeyRefusal('KEYS_REFUSED', 'Kraken refused the key: NetworkError: fetch failed')).toMatch(/^Kraken could not be reached/);
    expect(explainKeyRefusal('KEYS_REFUSED', 'Kraken refused the key: RequestTimeout: timed out after 10000 ms')).toMatch(/^Kraken could not be reached/);
    expect(explainKeyRefusal('KEY_CAN_WITHDRAW', 'this key has the Withdraw Funds permission')).toMatch(/can withdraw funds.*Query and Trade permissions only/);
    expect(explainKeyRefusal('VALIDATION_FAILED', 'apiKey: must look like a Kraken API key')).toBe('apiKey: must look like a Kraken API key');
  });
});
