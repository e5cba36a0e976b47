import { and, eq, like } from 'drizzle-orm';
import { accounts, credentials, users } from '../../schema/index.ts';
import type { Db } from '../db/client.ts';
import { withAccount } from '../db/scope.ts';
import type { Logger } from '../log.ts';
import { resealLegacy, sealedAad } from './secrets.ts';

/**
 * The one-time move of sealed secrets from v1 (no associated data) to v2 (bound to their row): TOTP
 * secrets and Kraken keys. It needs the master key, so it runs where that key is — at the start of the
 * api function and of `aether start`, before they serve — not in the migrate Job. Each value is
 * swapped only if it still holds what was read, so replicas starting together do it once; a value
 * that does not open is logged and left as it is (it could not be used before either).
 */
export async function resealLegacySecrets(db: Db, masterKey: Buffer, logger: Logger): Promise<{ resealed: number; failed: number }> {
  const out = { resealed: 0, failed: 0 };
  const attempt = async (what: Record<string, string>, swap: () => Promise<number>) => {
    try {
      out.resealed += await swap();
    } catch (err) {
      out.failed++;
      logger.error({ ...what, err: (err as Error).message }, 'a v1 sealed secret does not open with this master key: left as it is');
    }
  };

  const legacyTotp = await db.select({ id: users.id, sealed: users.totpSecretEnc }).from(users).where(like(users.totpSecretEnc, 'v1:%'));
  for (const u of legacyTotp) {
    await attempt({ user: u.id }, async () => {
      const next = resealLegacy(masterKey, u.sealed!, sealedAad.totp(u.id));
      return (await db.update(users).set({ totpSecretEnc: next }).where(and(eq(users.id, u.id), eq(users.totpSecretEnc, u.sealed!))).returning({ id: users.id })).length;
    });
  }

  for (const a of await db.select({ id: accounts.id }).from(accounts)) {
    await withAccount(db, a.id, async (tx) => {
      const rows = await tx.select({ id: credentials.id, sealed: credentials.ciphertext }).from(credentials).where(and(eq(credentials.accountId, a.id), like(credentials.ciphertext, 'v1:%')));
      for (const r of rows) {
        await attempt({ account: a.id, credential: r.id }, async () => {
          const next = resealLegacy(masterKey, r.sealed!, sealedAad.credentials(a.id, r.id));
          return (await tx.update(credentials).set({ ciphertext: next }).where(and(eq(credentials.id, r.id), eq(credentials.ciphertext, r.sealed!))).returning({ id: credentials.id })).length;
        });
      }
    });
  }
  if (out.resealed || out.failed) logger.info(out, 'sealed secrets moved to v2 (bound to their row)');
  return out;
}
