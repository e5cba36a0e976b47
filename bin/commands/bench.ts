import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_ROOT } from '../../lib/app-root.ts';
import type { Help } from '../args.ts';

const BENCH_DIR = join(APP_ROOT, 'bench');

/** `aether bench <name>`: imports bench/<name>.ts, which runs and prints its `bench <name>: …` line. */
export async function run(argv: string[]): Promise<number> {
  if (!existsSync(BENCH_DIR)) {
    process.stderr.write('aether bench: the benchmarks are TypeScript in a clone (bench/); the compiled build holds none\n');
    return 2;
  }
  const available = readdirSync(BENCH_DIR).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  const [name, ...rest] = argv;
  if (!name || rest.length || !available.includes(name)) {
    process.stderr.write(`usage: aether bench <name>   (npm run bench -- <name>); available: ${available.join(', ')}\n`);
    return 2;
  }
  await import(pathToFileURL(join(BENCH_DIR, `${name}.ts`)).href);
  // A bench that missed its target says so with process.exitCode; the CLI would otherwise overwrite it with 0.
  return Number(process.exitCode ?? 0);
}

export const help: Help = {
  usage: 'aether bench <name>   (npm run bench -- <name>)',
  about: 'Runs bench/<name>.ts, which prints one `bench <name>: key=value …` line (and exits 1 when it misses its target).',
  flags: [['<name>', 'a file of bench/ without .ts (aether bench with no name lists them)']],
  examples: ['npm run bench -- backtest'],
};
