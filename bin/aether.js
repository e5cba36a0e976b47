#!/usr/bin/env node
// The `aether` CLI. In the source tree (a clone, `npm start`, the tests) it runs the TypeScript through
// tsx, a dev dependency; the compiled build (`npm run build` → dist/, the production image) is one
// bundled script beside this file, loaded with V8's code cache for it (bin/load-bundle.js), no tsx.
import { existsSync } from 'node:fs';

const bundle = new URL('./cli.cjs', import.meta.url);
if (existsSync(bundle)) {
  const { loadBundle } = await import('./load-bundle.js');
  loadBundle(bundle).runCli(process.argv.slice(2));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { runCli } = await import('./cli.ts');
  runCli(process.argv.slice(2));
}
