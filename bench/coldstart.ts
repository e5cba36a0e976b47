/**
 * Cold start of a function pod from the compiled build: `node OUT/bin/aether.js serve <function>` as
 * the image runs it (bin/build.js output beside the production dependencies only), against a fresh
 * migrated database and the local Redis.
 *
 * - serve_ms: process spawned → its `serving` log line (listening: what a readiness probe waits for);
 * - first_request_ms: process spawned → the answer to its first request (GET /readyz: database and queue);
 * - image_mb: the image's app layers, production node_modules as the Dockerfile prunes it plus the build;
 * - node_ms: `node -e 0` on the machine at the time, the floor under both times (a loaded machine
 *   slows everything alike: compare the times with it).
 *
 * Each of api (the heaviest: it checks the migrations at start), tick and order-<account> starts
 * RUNS times; the line reports the slowest function's median. Targets: ready ≤ 500 ms, first answer
 * ≤ 700 ms, image ≤ 150 MB.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../lib/runtime/embedded-postgres.ts';
import { buildDist, linkProductionModules, productionMb } from '../tests/helpers/production-build.ts';
import { withFreshDatabase } from './support.ts';

const RUNS = 5;
const FUNCTIONS = ['api', 'tick', 'order-bench'] as const;
const TARGETS = { serve_ms: 500, first_request_ms: 700, image_mb: 150 };

interface Start {
  serveMs: number;
  firstRequestMs: number;
}

/** One cold start: spawn, wait for `serving`, one request; then SIGTERM and wait for the exit. */
async function coldStart(out: string, fn: string, env: NodeJS.ProcessEnv): Promise<Start> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(out, 'bin/aether.js'), 'serve', fn], { cwd: out, env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  try {
    let output = '';
    const serveMs = await new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${fn} did not serve within 30 s:\n${output}`)), 30_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        if (/"msg":"serving"/.test(output)) {
          clearTimeout(timer);
          ok(performance.now() - t0);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => fail(new Error(`${fn} exited (${code}) before serving:\n${output}`)));
    });
    const r = await fetch(`http://127.0.0.1:${port}/readyz`);
    const firstRequestMs = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${fn}: GET /readyz → ${r.status} ${await r.text()}`);
    return { serveMs, firstRequestMs };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The floor on this machine right now: `node -e 0`, spawn to exit (the same load slows both). */
async function nodeMs(): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await new Promise((ok) => spawn(process.execPath, ['-e', '0']).once('exit', ok));
    times.push(performance.now() - t0);
  }
  return median(times);
}

const out = mkdtempSync(join(tmpdir(), 'aether-coldstart-'));
try {
  buildDist(out);
  linkProductionModules(out);
  const imageMb = productionMb(out);
  await withFreshDatabase(async (url) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      AETHER_MASTER_KEY: randomBytes(32).toString('base64'),
      AETHER_AUDIT_KEY: randomBytes(32).toString('base64'),
      AETHER_JOB_KEY: randomBytes(32).toString('base64'),
      AETHER_METRICS_TOKEN: randomBytes(24).toString('hex'),
      AETHER_ACCOUNT: 'bench',
      SECRETS_DIR: join(out, 'no-secrets'),
      AETHER_HOME: join(out, 'home'),
    };
    const results = [];
    for (const fn of FUNCTIONS) {
      const starts: Start[] = [];
      for (let i = 0; i < RUNS; i++) starts.push(await coldStart(out, fn, env));
      const serveMs = median(starts.map((s) => s.serveMs));
      const firstRequestMs = median(starts.map((s) => s.firstRequestMs));
      process.stderr.write(`coldstart ${fn}: serve_ms=${Math.round(serveMs)} first_request_ms=${Math.round(firstRequestMs)} (median of ${RUNS})\n`);
      results.push({ fn, serveMs, firstRequestMs });
    }
    const baseline = await nodeMs();
    const worst = results.reduce((a, b) => (b.firstRequestMs > a.firstRequestMs ? b : a));
    const m = { serve_ms: Math.max(...results.map((r) => r.serveMs)), first_request_ms: worst.firstRequestMs, image_mb: imageMb };
    console.log(`bench coldstart: serve_ms=${Math.round(m.serve_ms)} first_request_ms=${Math.round(m.first_request_ms)} image_mb=${m.image_mb.toFixed(1)} slowest=${worst.fn} node_ms=${Math.round(baseline)} runs=${RUNS}`);
    const missed = (Object.keys(TARGETS) as Array<keyof typeof TARGETS>).filter((k) => m[k] > TARGETS[k]);
    for (const k of missed) console.log(`bench coldstart: target missed: ${k} ${m[k].toFixed(1)} > ${TARGETS[k]}`);
    if (missed.length) process.exitCode = 1;
  });
} finally {
  rmSync(out, { recursive: true, force: true });
}
