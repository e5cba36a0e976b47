import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * k8s/README.md takes an operator from zero to production: every `aether` command, npm script and
 * repository path it names must exist, every cluster component it installs must carry a version, and
 * its steps must come in order. A renamed file or command breaks this test, not the operator's night.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'k8s', 'README.md'), 'utf8');

/** The commands `aether --help` lists (bin/cli.ts COMMANDS). */
function registeredCommands(): Set<string> {
  const cli = readFileSync(join(ROOT, 'bin', 'cli.ts'), 'utf8');
  const table = cli.slice(cli.indexOf('const COMMANDS'), cli.indexOf('];', cli.indexOf('const COMMANDS')));
  return new Set([...table.matchAll(/\['([a-z][a-z-]*)',/g)].map((m) => m[1]!));
}

/**
 * `aether <command> [<subcommand>]` as the README writes it: in a code span (`aether x`), after npx, at
 * the start of a shell line, or as the argv of `node bin/aether.js x` in a manifest — not the namespace
 * (`kubectl -n aether create …`).
 */
function namedCommands(text: string): Array<{ command: string; sub?: string }> {
  const found: Array<{ command: string; sub?: string }> = [];
  for (const m of text.matchAll(/(?<=npx |`|^)aether\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?/gm)) found.push({ command: m[1]!, sub: m[2] });
  for (const m of text.matchAll(/"bin\/aether\.js",\s*"([a-z][a-z-]*)"(?:,\s*"([a-z][a-z-]*)")?/g)) found.push({ command: m[1]!, sub: m[2] });
  return found;
}

/** Paths inside the repository the README points at (placeholders like order-<slug> left out). */
function namedPaths(text: string): string[] {
  const paths = new Set<string>();
  for (const m of text.matchAll(/(?<![\w./-])((?:k8s|tests|bin|lib|functions|schema|bench)\/[\w./<>-]*[\w>]|stack\.yml|Dockerfile|package\.json)(?![\w-])/g)) {
    const path = m[1]!;
    if (!path.includes('<')) paths.add(path);
  }
  return [...paths];
}

/** Words after `aether <command>` that are arguments, not subcommands. */
const NOT_SUBCOMMANDS = new Set(['account', 'ce', 'create', 'verify', 'anchor']);

describe('k8s/README.md (the operator guide)', () => {
  it('names only `aether` commands that bin/cli.ts registers, and subcommands their module handles', () => {
    const registered = registeredCommands();
    expect(registered.size).toBeGreaterThan(10);
    const named = namedCommands(readme);
    // Not vacuous: the guide does name the commands an operator needs.
    for (const needed of ['users', 'stack', 'migrate', 'audit', 'dispatch']) expect(named.map((n) => n.command), needed).toContain(needed);
    const unknown = named.filter((n) => !registered.has(n.command)).map((n) => `aether ${n.command}`);
    expect([...new Set(unknown)]).toEqual([]);
    for (const { command, sub } of named) {
      if (!sub || !NOT_SUBCOMMANDS.has(sub)) continue;
      const module = readFileSync(join(ROOT, 'bin', 'commands', `${command}.ts`), 'utf8');
      expect(module, `aether ${command} ${sub}`).toMatch(new RegExp(`['"\`]${sub}['"\`]`));
    }
  });

  it('the command check catches an unregistered command', () => {
    const registered = registeredCommands();
    const named = namedCommands('run `npx aether frobnicate` then `command: ["node", "bin/aether.js", "unmigrate"]`');
    expect(named.map((n) => n.command).filter((c) => !registered.has(c))).toEqual(['frobnicate', 'unmigrate']);
  });

  it('names only repository paths that exist', () => {
    const paths = namedPaths(readme);
    for (const needed of ['k8s/overlays/production', 'k8s/openfaas', 'k8s/base/backup/RESTORE.md', 'stack.yml']) expect(paths, needed).toContain(needed);
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
    expect(namedPaths('see k8s/base/nothing-here.yaml and tests/unit/k8s.test.ts').filter((p) => !existsSync(join(ROOT, p)))).toEqual(['k8s/base/nothing-here.yaml']);
  });

  it('names only npm scripts package.json defines', () => {
    const scripts = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))).scripts;
    const named = [...readme.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!);
    expect(named.filter((s) => !(s in scripts))).toEqual([]);
  });

  it('installs every cluster component with a pinned version, in numbered steps that come in order', () => {
    const installs = [...readme.matchAll(/helm (?:upgrade --install|install) (\S+) (\S+)([^\n]*(?:\\\n[^\n]*)*)/g)];
    const byRelease = new Map(installs.map((m) => [m[1]!, m[3]!]));
    for (const release of ['eg', 'cert-manager', 'kyverno', 'kube-prometheus-stack', 'openfaas']) {
      expect(byRelease.has(release), release).toBe(true);
      expect(byRelease.get(release), release).toMatch(/--version v?\d+\.\d+\.\d+/);
    }
    const steps = [...readme.matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]));
    expect(steps).toEqual(steps.map((_, i) => i));
    expect(steps.length).toBeGreaterThanOrEqual(12);
    // The topics the guide promises, each present.
    for (const topic of [/^## \d+\. Secrets$/m, /^## \d+\. Host name and DNS$/m, /^## \d+\. The first admin$/m, /^## Upgrades and rollback$/m, /^## Restoring from a backup$/m, /\*\*Rotating a Kraken key\*\*/, /^## OpenFaaS CE \(evaluation only\)$/m, /gateway\.upstreamTimeout=/])
      expect(readme).toMatch(topic);
  });
});
