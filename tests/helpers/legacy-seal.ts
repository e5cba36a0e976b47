import { createCipheriv, randomBytes } from 'node:crypto';

/** A value sealed the way Aether did before v2: AES-256-GCM without associated data, `v1:` prefix (for migration tests). */
export function sealV1(masterKey: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
}
