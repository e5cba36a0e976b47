import type * as Argon2 from '@node-rs/argon2';

// argon2id (the library's default algorithm), OWASP's recommended minimum cost.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// A native addon, loaded at the first password hashed or checked: only the api ever does either.
const argon2 = (): Promise<typeof Argon2> => import('@node-rs/argon2');

export const hashPassword = async (password: string): Promise<string> => (await argon2()).hash(password, OPTIONS);
export const verifyPassword = async (stored: string, password: string): Promise<boolean> => (await argon2()).verify(stored, password);
