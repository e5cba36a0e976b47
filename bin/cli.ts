import { ConfigError } from '../lib/config.ts';
import { helpText, type Help } from './args.ts';

/**
 * Every command, one line each: its name, what `aether --help` says of it, and its module
 * (bin/commands/<name>.ts, imported when the command runs), which exports `run(argv)` and `help`
 * (usage, flags, an example) that `aether <name> --help` prints. The imports are spelled out so the
 * build can bundle each command's code (bin/build.js).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, summary: string, load: () => Promise<CommandModule>]> = [
  ['start', 'run everything in one process (embedded PostgreSQL unless DATABASE_URL)', () => import('./commands/start.ts')],
  ['demo', "replay the repository's candles through the Kraken emulator: see it trade in minutes, offline", () => import('./commands/demo.ts')],
  ['status', 'every account: mode, trading state, equity, PnL, drawdown, hedge, last and next cycle', () => import('./commands/status.ts')],
  ['cycle', 'run a trading cycle now for the latest closed bar', () => import('./commands/cycle.ts')],
  ['backfill', 'pull OHLCV history (Kraken, CoinGecko or CSV files) into the candle store', () => import('./commands/backfill.ts')],
  ['train', 'train the ML model on the stored candles; promote it only if it beats the champion', () => import('./commands/train.ts')],
  ['backtest', 'replay candle files through the live cycle → report.json, trades.csv, equity.csv, report.html', () => import('./commands/backtest.ts')],
  ['research', 'every strategy × pair × year after costs → research.md, .json, report.html, equity SVGs', () => import('./commands/research.ts')],
  ['evaluate', 'walk-forward evaluation of the ML models on candle files', () => import('./commands/evaluate.ts')],
  ['accounts', 'list accounts / create one', () => import('./commands/accounts.ts')],
  ['users', 'create an admin or a viewer', () => import('./commands/users.ts')],
  ['audit', 'check the keyed audit chain against its anchors / anchor its head', () => import('./commands/audit.ts')],
  ['config', 'print every environment variable, its default and meaning', () => import('./commands/config.ts')],
  ['migrate', 'apply the database migrations', () => import('./commands/migrate.ts')],
  ['serve', 'serve one function on PORT (a cluster pod); needs DATABASE_URL', () => import('./commands/serve.ts')],
  ['dispatch', 'run the queue dispatcher against GATEWAY_URL (cluster)', () => import('./commands/dispatch.ts')],
  ['stack', 'print what the cluster needs for a new account (order-<slug>, its Secret)', () => import('./commands/stack.ts')],
  ['kraken-emulator', 'a local Kraken (REST + WebSocket) for demos and benchmarks', () => import('./commands/kraken-emulator.ts')],
  ['bench', 'run bench/<name>.ts and print its `bench <name>: …` line (in a clone)', () => import('./commands/bench.ts')],
];

function usage(): string {
  const width = Math.max(...COMMANDS.map(([n]) => n.length));
  return [
    'usage: aether <command> [flags]',
    '',
    'commands:',
    ...COMMANDS.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    '',
    'aether <command> --help: its flags and an example. Configuration is by environment variables (aether config).',
    '',
  ].join('\n');
}

/** `--help` or `-h` anywhere before a `--` asks for the command's help, whatever else is given. */
const wantsHelp = (argv: readonly string[]): boolean => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

interface CommandModule {
  run(argv: string[]): Promise<number>;
  help?: Help;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (!cmd) {
    process.stderr.write(usage());
    return 2;
  }
  const entry = COMMANDS.find(([name]) => name === cmd);
  if (!entry) {
    process.stderr.write(`aether: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  const mod = await entry[2]();
  if (wantsHelp(rest)) {
    process.stdout.write(mod.help ? helpText(mod.help) : `usage: aether ${cmd}\n\n  ${entry[1]}\n`);
    return 0;
  }
  return mod.run(rest);
}

// Whatever a library left open (sockets in TIME_WAIT, timers) must not keep a finished command alive.
const exitSoon = (code: number): void => void setTimeout(() => process.exit(code), 3000).unref();

/** Runs `aether <argv>` and sets the exit code (bin/aether.js calls it, in the source tree and the build alike). */
export function runCli(argv: string[]): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
      exitSoon(code);
    },
    (err: Error) => {
      // Errors a user can act on are their message; anything else keeps its name (a bug to report).
      const plain = err instanceof ConfigError || err.name === 'StartupError' || err.name === 'Error';
      process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `aether: ${plain ? '' : `${err.name}: `}${err.message}\n`);
      process.exitCode = 1;
      exitSoon(1);
    },
  );
}

/** Every command's module and every function's, loaded and run no further: what the build makes V8's code cache of (bin/build.js). */
export async function loadEverything(): Promise<void> {
  await Promise.all(COMMANDS.map(([, , load]) => load()));
  await (await import('./gateway.ts')).loadEveryFunction();
}

/** ccxt's Kraken class as the live broker loads it (lib/exchange/ccxt-kraken.ts): the compiled build's test imports it through the bundle. */
export { loadKrakenClass } from '../lib/exchange/ccxt-kraken.ts';
