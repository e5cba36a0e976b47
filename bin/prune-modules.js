#!/usr/bin/env node
// `node bin/prune-modules.js DIR`: deletes from an installed node_modules what nothing loads at run time —
// type declarations, source maps, and ccxt's CommonJS and browser builds (Aether imports ccxt's ES
// modules, js/). The Dockerfile runs it on the production dependencies; `bench coldstart` sizes the
// image with the same rule.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Whether a file or directory under node_modules is never loaded by `node bin/aether.js`. */
export const prunable = (path) => /\.(d\.[cm]?ts|map)$/.test(path) || /(^|\/)node_modules\/ccxt\/dist$/.test(path);

function prune(dir) {
  let removed = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (prunable(path)) {
      rmSync(path, { recursive: true, force: true });
      removed++;
    } else if (entry.isDirectory()) removed += prune(path);
  }
  return removed;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    process.stderr.write('usage: node bin/prune-modules.js NODE_MODULES_DIR\n');
    process.exit(2);
  }
  process.stdout.write(`pruned ${prune(dir)} files and directories from ${dir}\n`);
}
