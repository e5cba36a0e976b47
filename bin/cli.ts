import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError } from '../lib/config.ts';
import { helpText, type Help } from './args.ts';

/**
 * Every command, one line each: its name and what `aether --help` says of it. The command lives in
 * bin/commands/<name>.ts and exports `run(argv)` and `help` (usage, flags, an example), which
 * `aether <name> --help` prints. A line whose module is absent is not offered.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, summary: string]> = [
  ['start', 'run everything in one process (embedded PostgreSQL unless DATABASE_URL)'],
  ['demo', "replay the repository's candles through the Kraken emulator: see it trade in minutes, offline"],
  ['status', 'every account: mode, trading state, equity, PnL, drawdown, hedge, last and next cycle'],
  ['cycle', 'run a trading cycle now for the latest closed bar'],
  ['backfill', 'pull OHLCV history (Kraken, CoinGecko or CSV files) into the candle store'],
  ['train', 'train the ML model on the stored candles; promote it only if it beats the champion'],
  ['backtest', 'replay candle files through the live cycle → report.json, trades.csv, equity.csv, report.html'],
  ['research', 'every strategy × pair × year after costs → research.md, .json, report.html, equity SVGs'],
  ['evaluate', 'walk-forward evaluation of the ML models on candle files'],
  ['accounts', 'list accounts / create one'],
  ['users', 'create an admin or a viewer'],
  ['audit', 'check the keyed audit chain against its anchors / anchor its head'],
  ['config', 'print every environment variable, its default and meaning'],
  ['migrate', 'apply the database migrations'],
  ['serve', 'serve one function on PORT (a cluster pod); needs DATABASE_URL'],
  ['dispatch', 'run the queue dispatcher against GATEWAY_URL (cluster)'],
  ['stack', 'print what the cluster needs for a new account (order-<slug>, its Secret)'],
  ['kraken-emulator', 'a local Kraken (REST + WebSocket) for demos and benchmarks'],
  ['bench', 'run bench/<name>.ts and print its `bench <name>: …` line'],
];

// .ts in the source tree (tsx), .js in the compiled build (npm run build → dist/).
const moduleOf = (name: string): URL => new URL(`./commands/${name}${extname(import.meta.url)}`, import.meta.url);
const available = (): ReadonlyArray<readonly [string, string]> => COMMANDS.filter(([name]) => existsSync(moduleOf(name)));

function usage(): string {
  const list = available();
  const width = Math.max(...list.map(([n]) => n.length));
  return [
    'usage: aether <command> [flags]',
    '',
    'commands:',
    ...list.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
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
  const entry = available().find(([name]) => name === cmd);
  if (!entry) {
    process.stderr.write(`aether: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(moduleOf(cmd).href)) as CommandModule;
  if (wantsHelp(rest)) {
    process.stdout.write(mod.help ? helpText(mod.help) : `usage: aether ${cmd}\n\n  ${entry[1]}\n`);
    return 0;
  }
  return mod.run(rest);
}

// Whatever a library left open (sockets in TIME_WAIT, timers) must not keep a finished command alive.
const exitSoon = (code: number): void => void setTimeout(() => process.exit(code), 3000).unref();

main(process.argv.slice(2)).then(
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
