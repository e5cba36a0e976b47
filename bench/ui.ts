/**
 * The web UI's weight and speed, as a director opens it: `aether start` (embedded PostgreSQL, the
 * built UI at `/`) against the Kraken emulator, three simulated accounts onboarded through the API,
 * Debian's Chromium headless.
 *
 *   js_gzip_kb     the JavaScript a first visit must load before anything shows: ui/dist/index.html's
 *                  module scripts and modulepreloads, gzipped as the server sends them (level 9)
 *   first_load_ms  a first visit (fresh profile, cold cache, no session) until the page's first
 *                  heading is shown (median of RUNS)
 *   dashboard_ms   a signed-in director opening `/` (fresh profile, cold cache, the session cookie set)
 *                  until the dashboard shows all three accounts (median of RUNS)
 *
 * Targets (issue 11): js_gzip_kb ≤ 250, dashboard_ms ≤ 1,000. Exits non-zero when one is missed.
 * BENCH_UI_VERBOSE=1 prints each load's resources (start and duration, ms from navigation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { UI_DIST, uiBuilt } from '../lib/http/static-ui.ts';
import { launchChromium, newUserContext } from '../tests/helpers/browser.ts';
import { startUiRuntime, type UiRuntime } from '../tests/helpers/ui-runtime.ts';

const RUNS = 7;
const TARGETS = { js_gzip_kb: 250, dashboard_ms: 1000 };
const ACCOUNT_NAMES = ['Company', 'Director 1', 'Director 2'];
const PASSWORD = 'bench ui: correct horse battery staple';

/** The entry script and every modulepreload of the built index.html, gzipped. */
export function initialJsGzipKb(dist = UI_DIST): { kb: number; files: string[] } {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [
    ...[...html.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!),
    ...[...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]!),
  ];
  if (files.length === 0) throw new Error(`${dist}/index.html loads no module script`);
  const bytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);
  return { kb: bytes / 1024, files };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function api(rt: UiRuntime, method: string, path: string, body: unknown, token?: string): Promise<unknown> {
  const res = await fetch(`${rt.url}/function/api${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

/** The first admin and the default accounts, through the API; a session token for the browser. */
async function onboard(rt: UiRuntime): Promise<string> {
  const email = 'bench.ui@example.com';
  const created = (await api(rt, 'POST', '/onboarding/admin', { token: rt.onboardingToken, email, name: 'Bench UI', password: PASSWORD })) as { totpUri: string };
  const secret = new URL(created.totpUri).searchParams.get('secret')!;
  const login = async () => ((await api(rt, 'POST', '/auth/login', { email, password: PASSWORD, totp: rt.freshTotp(secret) })) as { token: string }).token;
  await api(rt, 'POST', '/onboarding/accounts', {}, await login());
  return login();
}

async function timed(browser: Browser, rt: UiRuntime, session: string | null, ready: (page: Page) => Promise<unknown>): Promise<number> {
  const context = await newUserContext(browser);
  try {
    if (session) await context.addCookies([{ name: 'aether_session', value: session, url: rt.url }]);
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(rt.url, { waitUntil: 'commit' });
    await ready(page);
    const ms = performance.now() - t0;
    if (process.env.BENCH_UI_VERBOSE) {
      const entries = await page.evaluate<Array<{ name: string; start: number; ms: number }>>(
        `performance.getEntriesByType('resource').map((e) => ({ name: e.name.replace(location.origin, ''), start: Math.round(e.startTime), ms: Math.round(e.duration) }))`,
      );
      process.stdout.write(`  ${Math.round(ms)} ms: ${entries.map((e) => `${e.name} @${e.start}+${e.ms}`).join(', ')}\n`);
    }
    return ms;
  } finally {
    await context.close();
  }
}

const firstHeading = (page: Page) => page.getByRole('heading').first().waitFor();
const threeAccounts = (page: Page) => {
  const table = page.getByRole('main').getByRole('table', { name: 'Accounts' });
  return Promise.all(ACCOUNT_NAMES.map((name) => table.getByRole('link', { name, exact: true }).waitFor()));
};

async function run(): Promise<number> {
  if (!uiBuilt()) throw new Error(`bench ui: ${UI_DIST}/index.html is missing: run npm run build:ui first`);
  const js = initialJsGzipKb();
  const [rt, browser] = await Promise.all([startUiRuntime(), launchChromium()]);
  try {
    const session = await onboard(rt);
    await timed(browser, rt, session, threeAccounts); // warm-up: the server's first answers, Chromium's first profile
    const first: number[] = [];
    const dashboard: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      first.push(await timed(browser, rt, null, firstHeading));
      dashboard.push(await timed(browser, rt, session, threeAccounts));
    }
    const m = { js_gzip_kb: js.kb, first_load_ms: median(first), dashboard_ms: median(dashboard) };
    process.stdout.write(`bench ui: js_gzip_kb=${m.js_gzip_kb.toFixed(1)} first_load_ms=${Math.round(m.first_load_ms)} dashboard_ms=${Math.round(m.dashboard_ms)}\n`);
    process.stdout.write(`  initial JS: ${js.files.join(', ')}; ${RUNS} runs each: first load ${first.map(Math.round).join('/')} ms, dashboard ${dashboard.map(Math.round).join('/')} ms (best ${Math.round(Math.min(...dashboard))})\n`);
    const missed = (Object.keys(TARGETS) as Array<keyof typeof TARGETS>).filter((k) => m[k] > TARGETS[k]);
    for (const k of missed) process.stdout.write(`bench ui: target missed: ${k} ${Math.round(m[k])} > ${TARGETS[k]}\n`);
    return missed.length ? 1 : 0;
  } finally {
    await browser.close();
    await rt.close();
  }
}

process.exitCode = await run();
