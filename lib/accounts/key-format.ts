import { z } from 'zod';

/** Bytes a padded base64 string decodes to (the regex below has already judged its alphabet). */
const base64Bytes = (s: string): number => Math.floor((s.length * 3) / 4) - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);

/**
 * What a Kraken API key pair looks like. Pure (no Node APIs): the web UI validates its key form with
 * this same schema before the server does.
 */
export const krakenCredentialsSchema = z
  .object({
    apiKey: z.string().regex(/^[A-Za-z0-9+/=_-]{16,128}$/, 'must look like a Kraken API key'),
    apiSecret: z
      .string()
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be the base64 private key')
      .refine((s) => base64Bytes(s) >= 32, 'must decode to at least 32 bytes'),
  })
  .strict();
