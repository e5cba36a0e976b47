import { describe, expect, it } from 'vitest';
import { generateKey, krakenSignature, verifyKrakenSignature } from './sign.ts';

// DESIGN.md §5, from Kraken's API documentation.
const VECTOR = {
  secret: 'kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==',
  nonce: '1616492376594',
  body: 'nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25',
  path: '/0/private/AddOrder',
  sign: '4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ==',
};

describe('Kraken API-Sign', () => {
  it('reproduces the official vector', () => {
    expect(krakenSignature(VECTOR.path, VECTOR.nonce, VECTOR.body, VECTOR.secret)).toBe(VECTOR.sign);
  });

  it('verifies the vector and refuses any change to path, nonce, body or secret', () => {
    expect(verifyKrakenSignature(VECTOR.path, VECTOR.nonce, VECTOR.body, VECTOR.secret, VECTOR.sign)).toBe(true);
    const other = generateKey().secret;
    expect(verifyKrakenSignature('/0/private/CancelOrder', VECTOR.nonce, VECTOR.body, VECTOR.secret, VECTOR.sign)).toBe(false);
    expect(verifyKrakenSignature(VECTOR.path, '1616492376595', VECTOR.body, VECTOR.secret, VECTOR.sign)).toBe(false);
    expect(verifyKrakenSignature(VECTOR.path, VECTOR.nonce, VECTOR.body.replace('1.25', '12.5'), VECTOR.secret, VECTOR.sign)).toBe(false);
    expect(verifyKrakenSignature(VECTOR.path, VECTOR.nonce, VECTOR.body, other, VECTOR.sign)).toBe(false);
    expect(verifyKrakenSignature(VECTOR.path, VECTOR.nonce, VECTOR.body, VECTOR.secret, 'short')).toBe(false);
  });

  it('generates distinct keys with a 64-byte base64 secret', () => {
    const a = generateKey();
    const b = generateKey();
    expect(a.key).not.toBe(b.key);
    expect(a.key).toMatch(/^[A-Za-z0-9]{40,}$/);
    expect(Buffer.from(a.secret, 'base64')).toHaveLength(64);
  });
});
