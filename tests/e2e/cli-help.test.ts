import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { helpText, type Help } from '../../bin/args.ts';

/**
 * The CLI as a new user meets it (issue 12, "a CLI that helps"): `aether --help` lists every command,
 * every command answers `--help` with its usage and an example, and a bad flag is named.
 */
function aether(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/aether.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The commands of `aether --help`'s list. */
const listed = (help: string): string[] =>
  help
    .slice(help.indexOf('commands:'))
    .split('\n')
    .slice(1)
    .filter((l) => /^ {2}\S/.test(l))
    .map((l) => l.trim().split(/\s+/)[0]!);

describe('aether --help', () => {
  it('lists every command, the long-running and one-shot ones alike', async () => {
    const r = await aether(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const names = listed(r.stdout);
    for (const c of ['start', 'backfill', 'train', 'backtest', 'research', 'evaluate', 'accounts', 'users', 'audit', 'config', 'migrate', 'serve', 'dispatch', 'kraken-emulator', 'bench'])
      expect(names, c).toContain(c);
    // status, cycle and demo join the list when their modules exist; the list never names a missing one.
    const bare = await aether([]);
    expect(bare.code).toBe(2);
    expect(listed(bare.stderr)).toEqual(names);
  }, 120_000);

  it('every command answers --help with its usage and an example, exit 0, nothing on stderr', async () => {
    const names = listed((await aether(['--help'])).stdout);
    // Every module's help, rendered as the CLI renders it (one process: each CLI run loads TypeScript anew).
    const texts: Record<string, string> = {};
    for (const name of names) {
      const mod = (await import(`../../bin/commands/${name}.ts`)) as { help?: Help };
      expect(mod.help, `${name} exports its help`).toBeDefined();
      texts[name] = helpText(mod.help!);
      expect(texts[name], name).toMatch(new RegExp(`^usage: aether ${name}\\b`));
      expect(texts[name], name).toMatch(/^examples?:\n {2}\S/m);
    }
    // The CLI prints exactly that, for --help and for -h anywhere before `--`, whatever else is given.
    const [plain, late] = await Promise.all([aether(['backtest', '--help']), aether(['start', '--port', '1', '-h'])]);
    expect(plain).toEqual({ code: 0, stdout: texts['backtest'], stderr: '' });
    expect(late).toEqual({ code: 0, stdout: texts['start'], stderr: '' });
    expect(texts['backtest']).toMatch(/--from ISO, --to ISO/);
  }, 240_000);

  it('names an unknown flag (and the one a typo meant), a flag missing its value, and an unknown command — exit 2 with the usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['backtest', '--bogus'], /^aether backtest: unknown flag --bogus\n/],
      [['research', '--form', '2022-01-01', '--out', '/nonexistent/x'], /unknown flag --form \(did you mean --from\?\)/],
      [['backfill', '--source', 'csv', '--pairs'], /--pairs needs a value/],
      [['config', '--verbose'], /^aether config: unknown flag --verbose/],
      [['backtest', '--no-adapt=yes'], /--no-adapt takes no value/],
      [['accounts', 'list', 'extra'], /unexpected argument 'extra'/],
      [['bogus-command'], /unknown command 'bogus-command'/],
    ];
    const results = await Promise.all(cases.map(([argv]) => aether(argv)));
    results.forEach((r, i) => {
      const [argv, message] = cases[i]!;
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(message);
      expect(r.stderr, argv.join(' ')).toMatch(/usage: aether/);
      expect(r.stdout, argv.join(' ')).toBe('');
    });
  }, 240_000);
});
