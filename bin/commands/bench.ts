import { existsSync, readdirSync } from 'node:fs';
import type { Help } from '../args.ts';

/** `aether bench <name>`: imports bench/<name>.ts, which runs and prints its `bench <name>: …` line. */
export async function run(argv: string[]): Promise<number> {
  const available = readdirSync(new URL('../../bench/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  const [name, ...rest] = argv;
  if (!name || rest.length || !/^[a-z0-9-]+$/.test(name) || !existsSync(new URL(`../../bench/${name}.ts`, import.meta.url))) {
    process.stderr.write(`usage: aether bench <name>   (npm run bench -- <name>); available: ${available.join(', ')}\n`);
    return 2;
  }
  await import(new URL(`../../bench/${name}.ts`, import.meta.url).href);
  // A bench that missed its target says so with process.exitCode; the CLI would otherwise overwrite it with 0.
  return Number(process.exitCode ?? 0);
}

export const help: Help = {
  usage: 'aether bench <name>   (npm run bench -- <name>)',
  about: 'Runs bench/<name>.ts, which prints one `bench <name>: key=value …` line (and exits 1 when it misses its target).',
  flags: [['<name>', 'a file of bench/ without .ts (aether bench with no name lists them)']],
  examples: ['npm run bench -- backtest'],
};
