import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { migrateAsOwner, resolveDatabase } from '../services.ts';

/**
 * `aether migrate`: the migrations, as the owner (AETHER_MIGRATE_DATABASE_URL, else DATABASE_URL,
 * else the embedded superuser); then the runtime role's password from DATABASE_URL when it names
 * aether_runtime (the migrate Job), so the owner's credentials are needed nowhere else.
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write('usage: aether migrate\n');
    return 2;
  }
  const config = parseConfig();
  const urls = await resolveDatabase(config, createLogger(config.LOG_LEVEL), true);
  if (!urls.ownerUrl) {
    process.stderr.write('aether migrate: in Kubernetes the owner URL must be given as AETHER_MIGRATE_DATABASE_URL (the migrate Job mounts it)\n');
    return 2;
  }
  try {
    await migrateAsOwner(urls, urls.embedded ? 'pg' : config.databaseDriver);
    process.stdout.write('migrations applied\n');
    return 0;
  } finally {
    await urls.embedded?.stop();
  }
}
