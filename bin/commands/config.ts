import { configDocs, parseConfig } from '../../lib/config.ts';
import { args, command, type Help } from '../args.ts';

export const help: Help = {
  usage: 'aether config',
  about: 'Prints the mode this environment selects and every environment variable Aether reads, its default and meaning.',
  examples: ['aether config', 'DATABASE_URL=postgres://aether@db/aether aether config'],
};

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    args(argv, {});
    const c = parseConfig();
    process.stdout.write(`mode: ${c.mode}  database driver: ${c.databaseDriver}  queues: ${c.queueBackend}\n\n`);
    for (const [name, def, meaning] of configDocs) process.stdout.write(`${String(name).padEnd(20)} ${def.padEnd(34)} ${meaning}\n`);
    return 0;
  });
