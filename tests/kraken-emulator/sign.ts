import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Kraken's `API-Sign`: base64(HMAC-SHA512(base64decode(secret), path + SHA256(nonce + body))). */
export function krakenSignature(path: string, nonce: string, body: string, secretB64: string): string {
  const sha = createHash('sha256').update(nonce + body).digest();
  return createHmac('sha512', Buffer.from(secretB64, 'base64'))
    .update(Buffer.concat([Buffer.from(path), sha]))
    .digest('base64');
}

/** Constant-time comparison of a presented signature with the expected one. */
export function verifyKrakenSignature(path: string, nonce: string, body: string, secretB64: string, presented: string): boolean {
  const expected = Buffer.from(krakenSignature(path, nonce, body, secretB64));
  const got = Buffer.from(presented);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

/** A random API key and a 64-byte base64 secret, shaped like Kraken's. */
export function generateKey(): { key: string; secret: string } {
  return {
    key: randomBytes(42).toString('base64').replace(/[+/=]/g, '').slice(0, 56),
    secret: randomBytes(64).toString('base64'),
  };
}
