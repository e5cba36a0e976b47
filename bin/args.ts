import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** What `aether <command> --help` prints: the usage line(s), what it does, its flags, and at least one example. */
export interface Help {
  usage: string | readonly string[];
  about?: string;
  flags?: ReadonlyArray<readonly [flag: string, meaning: string]>;
  examples: readonly string[];
}

const lines = (u: string | readonly string[]): readonly string[] => (typeof u === 'string' ? [u] : u);

export function helpText(h: Help): string {
  const out = lines(h.usage).map((u, i) => `${i ? '       ' : 'usage: '}${u}`);
  if (h.about) out.push('', ...h.about.split('\n').map((l) => `  ${l}`));
  if (h.flags?.length) {
    const width = Math.min(28, Math.max(...h.flags.map(([f]) => f.length)));
    out.push('', 'flags:', ...h.flags.map(([f, m]) => `  ${f.padEnd(width)}  ${m}`));
  }
  out.push('', h.examples.length > 1 ? 'examples:' : 'example:', ...h.examples.map((e) => `  ${e}`));
  return out.join('\n') + '\n';
}

/** Edit distance, to suggest the flag a typo meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** node:util's parse errors, reworded to name the flag (and the flag a typo probably meant). */
function usageMessage(err: Error & { code?: string }, known: readonly string[]): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const name = quoted.replace(/^-+/, '').split('=')[0]!;
    const near = known.map((k) => [k, distance(name, k)] as const).filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0];
    return `unknown flag ${quoted}${near ? ` (did you mean --${near[0]}?)` : ''}`;
  }
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument '${quoted}'`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /--[\w-]+/.exec(err.message)?.[0] ?? quoted;
    return /does not take an argument/.test(err.message) ? `${flag} takes no value` : `${flag} needs a value`;
  }
  return err.message;
}

/** node:util parseArgs with strict checking; a bad flag is a UsageError (exit code 2) that names it. */
export function args<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError(usageMessage(err as Error, Object.keys(options)));
  }
}

/**
 * Runs a command body, turning usage errors into a message naming the command, its usage and a
 * pointer to --help, with exit code 2.
 */
export async function command(help: Help | Help['usage'], body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UsageError) {
      const usage = lines(typeof help === 'string' || Array.isArray(help) ? (help as Help['usage']) : (help as Help).usage);
      const name = /^aether [\w-]+/.exec(usage[0]!)?.[0] ?? 'aether';
      process.stderr.write(`${name}: ${err.message}\nusage: ${usage.join('\n       ')}\n(${name} --help: every flag, with an example)\n`);
      return 2;
    }
    throw err;
  }
}
