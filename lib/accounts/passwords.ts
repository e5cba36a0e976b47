import { hash, verify } from '@node-rs/argon2';

// argon2id (the library's default algorithm), OWASP's recommended minimum cost.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);
export const verifyPassword = (stored: string, password: string): Promise<boolean> => verify(stored, password);
