#!/usr/bin/env node
// `npm run build [-- OUT]`: bin, lib, functions and schema compiled to JavaScript (tsconfig.build.json),
// plus what the code reads at run time relative to itself (package.json, stack.yml, the migrations, the
// built web UI), so OUT (default dist/) is the app tree the image runs: `node OUT/bin/aether.js serve api`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'dist'));
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// A type error fails the build: the image never holds code the type checker refused.
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'inherit' });
if (compiled.status !== 0) {
  process.stderr.write(`build: tsc failed (${compiled.status ?? compiled.signal}); nothing is usable in ${out}\n`);
  process.exit(1);
}
for (const file of ['package.json', 'stack.yml', 'bin/aether.js', 'schema/migrations']) cpSync(join(root, file), join(out, file), { recursive: true });
// The api function serves ui/dist when it is built (npm run build:ui); without it, it says how to build it.
if (existsSync(join(root, 'ui/dist'))) cpSync(join(root, 'ui/dist'), join(out, 'ui/dist'), { recursive: true });
process.stdout.write(`built ${out}\n`);
