#!/usr/bin/env node
// The `aether` CLI. In the source tree (a clone, `npm start`, the tests) it runs the TypeScript through
// tsx, a dev dependency; the compiled build (`npm run build` → dist/, the production image) is plain
// JavaScript beside this file and needs no tsx.
import { existsSync } from 'node:fs';

if (existsSync(new URL('./cli.js', import.meta.url))) {
  await import('./cli.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./cli.ts');
}
