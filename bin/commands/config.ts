import { configDocs, parseConfig } from '../../lib/config.ts';

export async function run(argv: string[]): Promise<number> {
  if (argv.length) {
    process.stderr.write('usage: aether config\n');
    return 2;
  }
  const c = parseConfig();
  process.stdout.write(`mode: ${c.mode}  database driver: ${c.databaseDriver}  queues: ${c.queueBackend}\n\n`);
  for (const [name, def, meaning] of configDocs) process.stdout.write(`${String(name).padEnd(20)} ${def.padEnd(34)} ${meaning}\n`);
  return 0;
}
