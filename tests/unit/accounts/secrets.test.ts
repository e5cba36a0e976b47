import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, isLegacySealed, resealLegacy, SealedSecretError, sealedAad } from '../../../lib/accounts/secrets.ts';
import { sealV1 } from '../../helpers/legacy-seal.ts';

const KEY = randomBytes(32);
const AAD = sealedAad.credentials('8b0f4a4e-3d0c-4a4e-9a57-0d7f1f0b1c01', '1c8f3b0e-5e3a-4f5e-8f47-6c1d2b3a4e5f');

const withField = (sealed: string, i: number, f: (b: Buffer) => Buffer): string => {
  const parts = sealed.split(':');
  parts[i] = f(Buffer.from(parts[i]!, 'base64')).toString('base64');
  return parts.join(':');
};

describe('sealed secrets (AES-256-GCM v2, bound to their row)', () => {
  it('opens what it sealed, in the row it was sealed for; every seal has a fresh IV', () => {
    const a = encryptSecret(KEY, 'the secret', AAD);
    expect(a).toMatch(/^v2:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(a).not.toContain('the secret');
    expect(decryptSecret(KEY, a, AAD)).toBe('the secret');
    expect(encryptSecret(KEY, 'the secret', AAD)).not.toBe(a);
  });

  it('a value copied into another row does not open (another account, another credential, a TOTP column)', () => {
    const sealed = encryptSecret(KEY, 'the secret', AAD);
    const otherAccount = sealedAad.credentials('00000000-0000-4000-8000-000000000001', '1c8f3b0e-5e3a-4f5e-8f47-6c1d2b3a4e5f');
    const otherRow = sealedAad.credentials('8b0f4a4e-3d0c-4a4e-9a57-0d7f1f0b1c01', '00000000-0000-4000-8000-000000000002');
    for (const aad of [otherAccount, otherRow, sealedAad.totp('8b0f4a4e-3d0c-4a4e-9a57-0d7f1f0b1c01'), ''])
      expect(() => decryptSecret(KEY, sealed, aad)).toThrow(/does not open/);
  });

  it('a truncated or padded authentication tag is refused (only the full 16-byte GCM tag is checked)', () => {
    const sealed = encryptSecret(KEY, 'the secret', AAD);
    for (const n of [0, 4, 8, 12, 15]) {
      const short = withField(sealed, 2, (t) => t.subarray(0, n));
      expect(() => decryptSecret(KEY, short, AAD)).toThrow(new SealedSecretError(`sealed secret: the authentication tag must be 16 bytes, not ${n}`));
    }
    expect(() => decryptSecret(KEY, withField(sealed, 2, (t) => Buffer.concat([t, Buffer.from([0])])), AAD)).toThrow(/must be 16 bytes, not 17/);
  });

  it('a flipped bit anywhere, or the wrong master key, does not open', () => {
    const sealed = encryptSecret(KEY, 'the secret', AAD);
    const flip = (b: Buffer) => Buffer.from(b.map((x, i) => (i === 0 ? x ^ 1 : x)));
    for (const i of [1, 2, 3]) expect(() => decryptSecret(KEY, withField(sealed, i, flip), AAD)).toThrow(/does not open/);
    expect(() => decryptSecret(randomBytes(32), sealed, AAD)).toThrow(/does not open/);
  });

  it.each(['', 'v2', 'v2:a:b', 'v3:AAAA:AAAA:AAAA', 'v2:!!:AAAA:AAAA', 'v2:a:b:c:d', 'plaintext'])('%j is not a sealed secret', (s) => {
    expect(() => decryptSecret(KEY, s, AAD)).toThrow(SealedSecretError);
  });

  it('a v1 value (no associated data) is never opened by decryptSecret', () => {
    const old = sealV1(KEY, 'the secret');
    expect(isLegacySealed(old)).toBe(true);
    expect(() => decryptSecret(KEY, old, AAD)).toThrow(/old format \(v1/);
  });

  it('resealLegacy turns a v1 value into a v2 one bound to its row; only v1 values, and only with the right key', () => {
    const old = sealV1(KEY, 'the secret');
    const next = resealLegacy(KEY, old, AAD);
    expect(isLegacySealed(next)).toBe(false);
    expect(decryptSecret(KEY, next, AAD)).toBe('the secret');
    expect(() => resealLegacy(KEY, next, AAD)).toThrow(/not a v1/);
    expect(() => resealLegacy(randomBytes(32), old, AAD)).toThrow(/does not open/);
    expect(() => resealLegacy(KEY, withField(old, 2, (t) => t.subarray(0, 8)), AAD)).toThrow(/16 bytes, not 8/);
  });
});
