#!/usr/bin/env node
// The `aether` CLI. In the source tree (a clone, `npm start`, the tests) it runs the TypeScript through
// tsx, a dev dependency; the compiled build (`npm run build` → dist/, the production image) is plain
// JavaScript beside this file and needs no tsx.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 keeps compiled code across starts (NODE_COMPILE_CACHE, the image sets it): a function
// restarted in its pod skips most of the parsing. Older Node has no such cache and starts as before.
module.enableCompileCache?.();

if (existsSync(new URL('./cli.js', import.meta.url))) {
  await import('./cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
}
