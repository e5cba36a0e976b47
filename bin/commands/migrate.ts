import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { args, command, type Help } from '../args.ts';
import { migrateAsOwner, resolveDatabase } from '../services.ts';

export const help: Help = {
  usage: 'aether migrate',
  about: 'Applies the database migrations as the owner (AETHER_MIGRATE_DATABASE_URL, else DATABASE_URL, else the\nembedded superuser). `aether start` migrates by itself; this is for the cluster’s migrate Job.',
  examples: ['aether migrate', 'AETHER_MIGRATE_DATABASE_URL=postgres://owner@db/aether aether migrate'],
};

export const run = (argv: string[]): Promise<number> => command(help, () => migrate(argv));

/**
 * `aether migrate`: the migrations, as the owner (AETHER_MIGRATE_DATABASE_URL, else DATABASE_URL,
 * else the embedded superuser); then the runtime role's password from DATABASE_URL when it names
 * aether_runtime (the migrate Job), so the owner's credentials are needed nowhere else.
 */
async function migrate(argv: string[]): Promise<number> {
  args(argv, {});
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
