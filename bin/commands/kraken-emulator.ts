/**
 * `aether kraken-emulator --port N [--host H] [--scenario FILE] [--start-index I] [--advance-ms MS]`
 * Starts the Kraken spot REST + WS v2 emulator, prints its URLs and a funded demo key, stops on SIGINT.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKey, parseScenario, startKrakenEmulator, type KrakenEmulator } from '../../tests/kraken-emulator/index.ts';
import type { Help } from '../args.ts';

const USAGE = 'usage: aether kraken-emulator [--port N] [--host 127.0.0.1] [--scenario FILE.json] [--start-index I] [--advance-ms MS]';

export interface StartedEmulator {
  emu: KrakenEmulator;
  demo: { key: string; secret: string };
  stop(): Promise<void>;
}

class UsageError extends Error {}

function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${v}"`);
  return n;
}

/** Parses the arguments and starts the emulator (separate from run() so it can be tested without signals). */
export async function startFromArgs(argv: string[]): Promise<StartedEmulator> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, scenario: { type: 'string' }, 'start-index': { type: 'string' }, 'advance-ms': { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const port = intOption(values.port, 'port', 0, 65535) ?? 0;
  const startIndex = intOption(values['start-index'], 'start-index', 0, 10_000_000);
  const advanceMs = intOption(values['advance-ms'], 'advance-ms', 10, 86_400_000);
  let scenario;
  if (values.scenario !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(values.scenario, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read scenario ${values.scenario}: ${(e as Error).message}`);
    }
    try {
      scenario = parseScenario(json);
    } catch (e) {
      throw new UsageError(`invalid scenario ${values.scenario}: ${(e as Error).message}`);
    }
  }
  const demo = generateKey();
  const emu = await startKrakenEmulator({
    port,
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(startIndex !== undefined ? { startIndex } : {}),
    ...(scenario ? { scenario } : {}),
    keys: [{ ...demo, tier: 'intermediate', balances: { ZUSD: 100_000, XXBT: 1, XETH: 10, SOL: 100 } }],
  });
  const timer = advanceMs === undefined ? null : setInterval(() => emu.advance(), advanceMs);
  return {
    emu,
    demo,
    stop: async () => {
      if (timer) clearInterval(timer);
      await emu.close();
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  let started: StartedEmulator;
  try {
    started = await startFromArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const { emu, demo } = started;
  process.stdout.write(
    [
      `kraken emulator listening`,
      `  REST  ${emu.url}   (ccxt: urls.api.public = urls.api.private = this URL)`,
      `  WS v2 ${emu.wsUrl}`,
      `  demo key    ${demo.key}`,
      `  demo secret ${demo.secret}`,
      `  replay cursor ${new Date(emu.exchange.path.timeline[emu.exchange.cursor]!).toISOString()}`,
      `press Ctrl-C to stop`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await started.stop();
  process.stdout.write('kraken emulator stopped\n');
  return 0;
}

export const help: Help = {
  usage: 'aether kraken-emulator [--port N] [--host 127.0.0.1] [--scenario FILE.json] [--start-index I] [--advance-ms MS]',
  about: 'A local Kraken spot exchange (REST and WebSocket v2) replaying recorded candles; prints its URLs and a\nfunded demo key. For demos and benchmarks: point KRAKEN_API_URL at it.',
  flags: [
    ['--port N', 'listen port (default: a free one)'],
    ['--host H', 'listen address (default 127.0.0.1)'],
    ['--scenario FILE', 'a JSON scenario (price path, outages, rejections)'],
    ['--start-index I', 'the replay cursor’s first bar'],
    ['--advance-ms MS', 'advance the replay one bar every MS milliseconds'],
  ],
  examples: ['aether kraken-emulator --port 9000 --advance-ms 1000'],
};
