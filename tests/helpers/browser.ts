import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core: never a browser Playwright downloads (this machine and
 * CI reach no browser CDN). No vitest imports here: `bench ui` drives the same browser.
 */
export const CHROMIUM = '/usr/bin/chromium';

/** Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Screenshots of every page, per theme: git-ignored, kept after the run for a person to look at. */
export const SCREENSHOT_DIR = join(process.cwd(), 'test-results', 'ui');

export const THEMES = ['light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

/**
 * Whether browser tests skip: only on a laptop without /usr/bin/chromium. Under CI=true they always
 * run, so a missing Chromium fails the run instead of passing it silently.
 */
export const chromiumTestsSkip = (): boolean => process.env.CI !== 'true' && !existsSync(CHROMIUM);

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); browser tests never download one`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/**
 * A fresh context (no cookies, no storage) as a user's first visit, in a desktop viewport, with the
 * page's own Content-Security-Policy in force. Playwright's waits are generous: two cores are shared.
 */
export async function newUserContext(browser: Browser, o: { timezoneId?: string; colorScheme?: Theme } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', timezoneId: o.timezoneId ?? 'Europe/Berlin', colorScheme: o.colorScheme ?? 'light' });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  return context;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A and AA plus axe's best practices; only serious and critical findings fail. */
const AXE_OPTIONS = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] };

interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/**
 * axe-core's WCAG 2.x A/AA rules on the page as it is now; fails on any serious or critical violation,
 * naming the rule and the elements. The source is evaluated through DevTools, so the page's CSP
 * (script-src 'self') stays in force for the page itself.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  // Strings, not functions: a TypeScript loader may wrap a function's source in helpers the page lacks.
  if (!(await page.evaluate<boolean>(`'axe' in window`))) await page.evaluate(axeSource);
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, ${JSON.stringify(AXE_OPTIONS)}).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
  })))`);
  const grave = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (grave.length === 0) return;
  const report = grave.map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join(' | ')}`).join('\n');
  throw new Error(`axe on ${what}: ${grave.length} serious or critical violation(s):\n${report}`);
}

/** Switches the page's theme as a user does, with its toggle, unless it is in `theme` already. */
export async function useTheme(page: Page, theme: Theme): Promise<void> {
  const current = await page.evaluate<string | undefined>(`document.documentElement.dataset.theme`);
  if (current === theme) return;
  await page.getByRole('button', { name: `Switch to ${theme} theme` }).click();
  await page.locator(`html[data-theme="${theme}"]`).waitFor({ state: 'attached' });
}

/**
 * The page in both themes: a full-page screenshot of each to `test-results/ui/<name>-<theme>.png`
 * and axe in each (contrast differs by theme). Leaves the page in the light theme.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  for (const theme of THEMES) {
    await useTheme(page, theme);
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-${theme}.png`), fullPage: true, animations: 'disabled' });
    await expectAccessible(page, `${name} (${theme})`);
  }
  await useTheme(page, 'light');
}
