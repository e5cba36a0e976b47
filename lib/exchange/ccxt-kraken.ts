import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { kraken } from 'ccxt';
import { APP_ROOT } from '../app-root.ts';

/** Where ccxt's ES build keeps its Kraken class, inside the package (ccxt 4.x). */
const KRAKEN_MODULE = join('ccxt', 'js', 'src', 'kraken.js');

/**
 * ccxt's Kraken class alone, imported from ccxt's ES build rather than through the package's entry,
 * which loads all of ccxt's ~100 exchanges: 40 MB of heap and ~0.7 s, where Kraken alone takes
 * 5 MB and ~0.2 s. The heap matters beyond the start: the runtime that holds it serves every order
 * job, and each of V8's major collections inside one costs in proportion to what is live.
 * ccxt's package exports only its entry, so the module is found as Node finds packages — the
 * `node_modules` folders from the app's root up — and a missing one is a clear error.
 */
export async function loadKrakenClass(): Promise<typeof kraken> {
  // bin/build.js rewrites this exact import() for the compiled build (bin/load-bundle.js): keep it so.
  const mod = (await import(krakenModuleUrl())) as { default: typeof kraken };
  return mod.default;
}

function krakenModuleUrl(): string {
  const folders = createRequire(join(APP_ROOT, 'package.json')).resolve.paths('ccxt') ?? [];
  const found = folders.map((dir) => join(dir, KRAKEN_MODULE)).find((file) => existsSync(file));
  if (!found) throw new Error(`ccxt's Kraken module (${KRAKEN_MODULE}) is not installed under ${APP_ROOT}: run npm ci`);
  return pathToFileURL(found).href;
}
