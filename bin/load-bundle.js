// The compiled build's loader: the bundle (bin/cli.cjs, one script) compiled with the code V8 made of
// it at build time (bin/cli.cjs.cache, bin/build.js), so a start deserialises compiled code instead
// of parsing ~4 MB of JavaScript — most of a function pod's cold start (npm run bench -- coldstart).
// V8 refuses a cache made by another Node or V8 version; the script is then compiled as usual.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/**
 * Runs the bundle at `url` (a CommonJS script) and returns its exports, with `cached` (whether V8
 * used the cache) and `writeCache()` (V8's code for everything compiled so far, for the next start).
 * The bundle's import() of the packages it leaves out comes here as `__aetherImport` (bin/build.js):
 * Node 20 cannot run an import() in a script compiled from another process's code cache.
 */
export function loadBundle(url) {
  const file = fileURLToPath(url);
  const cacheFile = `${file}.cache`;
  const cachedData = existsSync(cacheFile) ? readFileSync(cacheFile) : undefined;
  const source = `(function (exports, require, module, __filename, __dirname, __aetherImport) {${readFileSync(file, 'utf8')}\n})`;
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file), (specifier) => import(specifier));
  return { ...module.exports, cached: cachedData !== undefined && !script.cachedDataRejected, writeCache: () => writeFileSync(cacheFile, script.createCachedData()) };
}
