import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding the app's package.json, stack.yml, schema/migrations and ui/dist: the clone
 * (the TypeScript, run through tsx) or the compiled build (dist/, whose code is bundled into
 * dist/bin/). Found by walking up from this module, because bundling moves the code, not those files.
 */
export const APP_ROOT: string = appRootAbove(dirname(fileURLToPath(import.meta.url)));

function appRootAbove(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in ${start} or above it: the app's files are missing`);
  }
}
