import { parseConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/log.ts';
import { migrateDatabase } from '../../lib/db/migrate.ts';
import { resolveDatabase } from '../services.ts';

export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write('usage: aether migrate\n');
    return 2;
  }
  const config = parseConfig();
  const { url, embedded } = await resolveDatabase(config, createLogger(config.LOG_LEVEL), true);
  try {
    await migrateDatabase(url, embedded ? 'pg' : config.databaseDriver);
    process.stdout.write('migrations applied\n');
    return 0;
  } finally {
    await embedded?.stop();
  }
}
