import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { ConfigError } from '../lib/config.ts';

const USAGE = `usage: aether <command> [options]

  start                      run everything in one process (embedded PostgreSQL unless DATABASE_URL)
  serve <function>           serve one function on PORT (a cluster pod); needs DATABASE_URL
  dispatch                   run the queue dispatcher against GATEWAY_URL (cluster)
  stack account <slug>       print what the cluster needs for a new account (order-<slug>, its Secret)
  migrate                    apply the database migrations
  audit verify|anchor        check the keyed audit chain against its anchors (exit 1 names the first bad row) / anchor its head
  accounts list|create       list accounts / create one (--slug --name --kind)
  users create --admin|--viewer --email E --name N [--password-stdin] [--account SLUG …]
  config                     print every environment variable, its default and meaning
  kraken-emulator --port N [--scenario FILE]   a local Kraken for demos and benchmarks
  evaluate --data PAIR=FILE … --out DIR         walk-forward model evaluation
  research --out DIR [--data PAIR=FILE …]       every strategy × pair × year after costs → research.md, .json, equity SVGs
  bench <name>               run bench/<name>.ts (queue, …)
`;

const commands = new Set(['start', 'serve', 'dispatch', 'stack', 'migrate', 'audit', 'accounts', 'users', 'config', 'kraken-emulator', 'evaluate', 'research', 'bench', 'backtest', 'backfill', 'train']);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  // .ts in the source tree (tsx), .js in the compiled build (npm run build → dist/).
  const file = new URL(`./commands/${cmd}${extname(import.meta.url)}`, import.meta.url);
  if (!commands.has(cmd) || !existsSync(file)) {
    process.stderr.write(`aether: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  const mod = (await import(file.href)) as { run(argv: string[]): Promise<number> };
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Whatever a library left open (sockets in TIME_WAIT, timers) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err: Error) => {
    process.stderr.write(err instanceof ConfigError ? `${err.message}\n` : `aether: ${err.name === 'Error' ? '' : `${err.name}: `}${err.message}\n`);
    process.exitCode = 1;
  },
);
