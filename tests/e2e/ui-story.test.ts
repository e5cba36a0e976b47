import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../kraken-emulator/index.ts';
import { checkPage, chromiumTestsSkip, launchChromium, newUserContext } from '../helpers/browser.ts';
import { startUiRuntime, type UiRuntime } from '../helpers/ui-runtime.ts';

/**
 * The web UI's story in a real Chromium against `aether start` and the Kraken emulator, as the
 * company's directors live it: one admin sets Aether up, watches a cycle trade, changes settings,
 * the hedge, keys and the mode, halts and resumes, reads governance, and gives a viewer one account.
 * The steps share one runtime and one browser session and run in order. Every page is screenshot in
 * both themes (test-results/ui/) and checked with axe-core.
 */
const ADMIN = { name: 'Ada Director', email: 'ada@example.com', password: 'correct horse battery staple' };
const VIEWER = { name: 'Vera Viewer', email: 'vera@example.com', password: 'initial viewer passphrase', own: 'viewer passphrase of her own' };
const ACCOUNTS = ['Company', 'Director 1', 'Director 2'];
const ZONE = 'Europe/Berlin';
/** Waits that span a poll of the page (5–15 s) and a cycle on a loaded machine. */
const SLOW = { timeout: 60_000 };

let rt: UiRuntime;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let totpSecret = '';

const main = (): ReturnType<Page['getByRole']> => page.getByRole('main');
const heading = (name: string | RegExp) => main().getByRole('heading', { name, level: 1 });
const accountsTable = () => main().getByRole('table', { name: 'Accounts' });
const accountRow = (name: string) => accountsTable().getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Follows a link of the main navigation, or of the account's own pages. */
async function open(nav: string, link: string, h1: string | RegExp): Promise<void> {
  await page.getByRole('navigation', { name: nav }).getByRole('link', { name: link, exact: true }).click();
  await heading(h1).waitFor();
}

/**
 * Clicks `button` in `scope` and waits until `done()`; when the page asks for a fresh authenticator
 * code first (a step-up: keys, halt resets, loosening a limit), gives it one, as the director would.
 */
async function act(scope: Locator, button: string, done: () => Promise<boolean>): Promise<void> {
  await scope.getByRole('button', { name: button, exact: true }).click();
  const code = scope.getByLabel('Authenticator code (step-up)');
  const deadline = Date.now() + SLOW.timeout;
  while (!(await done())) {
    if (await code.isVisible()) {
      await code.fill(rt.freshTotp(totpSecret));
      await scope.getByRole('button', { name: 'Confirm code' }).click();
      await code.waitFor({ state: 'hidden' });
    }
    if (Date.now() > deadline) throw new Error(`"${button}" did not finish within ${SLOW.timeout} ms: ${(await scope.textContent())?.slice(0, 500)}`);
    await sleep(200);
  }
}

const shows = (scope: Locator, text: string | RegExp) => () => scope.getByText(text).first().isVisible();

/** A datetime-local input's value for `ms` in the browser's zone. */
const localInput = (ms: number): string =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms).replace(' ', 'T');

/** The status of a request the signed-in page makes itself (its cookie, its origin). */
const statusFrom = (p: Page, method: string, path: string, body?: unknown): Promise<number> =>
  p.evaluate<number>(
    `fetch(${JSON.stringify(`/function/api${path}`)}, { method: ${JSON.stringify(method)}, credentials: 'same-origin', headers: { 'content-type': 'application/json' }${body === undefined ? '' : `, body: ${JSON.stringify(JSON.stringify(body))}`} }).then((r) => r.status)`,
  );

describe.skipIf(chromiumTestsSkip())('the web UI, in Chromium against the embedded runtime', () => {
  beforeAll(async () => {
    [rt, browser] = await Promise.all([startUiRuntime(), launchChromium()]);
    admin = await newUserContext(browser, { timezoneId: ZONE });
    page = await admin.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await rt?.close();
  }, 60_000);

  it('onboarding: the first admin with the one-time token, TOTP enrolment checked, the three accounts', async () => {
    await page.goto(rt.url);
    await expect(heading('Set up Aether').waitFor()).resolves.toBeUndefined();
    await checkPage(page, 'onboarding-admin');
    await main().getByLabel('Onboarding token').fill(rt.onboardingToken);
    await main().getByLabel('Your name').fill(ADMIN.name);
    await main().getByLabel('Email').fill(ADMIN.email);
    await main().getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await main().getByLabel('Repeat the password').fill(ADMIN.password);
    await main().getByRole('button', { name: 'Create admin' }).click();

    await main().getByRole('heading', { name: 'Set up your authenticator' }).waitFor();
    await expect(main().getByRole('img', { name: /QR code/ }).isVisible()).resolves.toBe(true);
    // The secret as a user without a camera types it: from the page, in groups of four.
    const shown = (await main().getByText('Or enter the secret by hand').textContent()) ?? '';
    totpSecret = (/by hand:\s*([A-Z2-7 ]+)/.exec(shown)?.[1] ?? '').replace(/ /g, '');
    expect(totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    await checkPage(page, 'onboarding-totp');
    await main().getByLabel('Code from the app').fill(rt.freshTotp(totpSecret));
    await main().getByRole('button', { name: 'Check code and continue' }).click();

    await main().getByRole('heading', { name: 'Accounts' }).waitFor();
    await checkPage(page, 'onboarding-accounts');
    await main().getByRole('button', { name: 'Create accounts' }).click();
    await main().getByRole('heading', { name: /Kraken keys/ }).waitFor();
    await checkPage(page, 'onboarding-keys');
    await main().getByRole('button', { name: 'Continue' }).click();
    await main().getByRole('heading', { name: /Risk and hedge/ }).waitFor();
    await checkPage(page, 'onboarding-defaults');
    await main().getByRole('button', { name: 'Continue' }).click();
    await main().getByRole('heading', { name: 'Setup complete' }).waitFor();
    await checkPage(page, 'onboarding-done');
    await main().getByRole('button', { name: 'Open the dashboard' }).click();
    await heading('Dashboard').waitFor();
    expect((await rt.db.accounts()).map((a) => a.slug)).toEqual(['company', 'director-1', 'director-2']);
  }, 120_000);

  it('login: a wrong code is refused, the right TOTP code signs the admin in', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await heading('Log in').waitFor();
    await checkPage(page, 'login');
    const form = page.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Email').fill(ADMIN.email);
    await form.getByLabel('Password').fill(ADMIN.password);
    await form.getByLabel('Authenticator code').fill('000000');
    await form.getByRole('button', { name: 'Log in' }).click();
    await expect(form.getByRole('alert').textContent()).resolves.toMatch(/TOTP|code/i);
    await form.getByLabel('Authenticator code').fill(rt.freshTotp(totpSecret));
    await form.getByRole('button', { name: 'Log in' }).click();
    await heading('Dashboard').waitFor();
  }, 60_000);

  it('the dashboard shows the three accounts, each in SIMULATION, before any cycle', async () => {
    for (const name of ACCOUNTS) {
      const row = accountRow(name);
      await row.waitFor();
      await expect(row.textContent()).resolves.toMatch(/SIMULATION/);
      await expect(row.textContent()).resolves.toMatch(/not yet/);
    }
    await checkPage(page, 'dashboard-before-cycle');
  }, 60_000);

  it('a simulated cycle runs (Run a cycle now): the account page shows its trades and equity curve, the dashboard its holdings', async () => {
    await open('Main', 'Company', 'Company: Overview');
    await main().getByText('Last cycle: none yet').waitFor();
    const bar = await rt.nextBar();
    await act(main(), 'Run a cycle now', shows(main(), /Cycle queued/));
    const rows = await rt.cycleDone(bar);
    expect(rows.map((r) => r.outcome)).not.toContain('failed');

    // The page refreshes itself: the cycle, the fills of the midnight decision and the equity snapshot show without a reload.
    await main().getByText(/^Last cycle: .*bar/).waitFor(SLOW);
    const trades = main().getByRole('table', { name: 'Trades, newest first' });
    await trades.getByRole('row').filter({ hasText: 'BTC/USD' }).filter({ hasText: 'BUY' }).first().waitFor(SLOW);
    const curve = main().getByRole('region', { name: 'Equity and return' });
    await curve.waitFor(SLOW);
    await curve.getByText('Equity and return: show the data as a table').click();
    await expect(curve.getByRole('table', { name: 'Equity snapshots, oldest first' }).getByRole('row').count()).resolves.toBeGreaterThanOrEqual(2); // header + a snapshot
    await checkPage(page, 'account');

    await open('Main', 'Dashboard', 'Dashboard');
    for (const name of ACCOUNTS) await expect.poll(() => accountRow(name).textContent(), SLOW).toMatch(/BTC/);
    await expect(accountRow('Company').textContent()).resolves.not.toMatch(/not yet/);
    await checkPage(page, 'dashboard');
  }, 180_000);

  it('settings: a risk limit out of bounds is refused with the reason, a valid one is saved and versioned', async () => {
    await open('Main', 'Company', 'Company: Overview');
    await open('Company pages', 'Configuration', 'Company: Configuration');
    const risk = main().getByRole('form', { name: 'Risk' });
    await risk.getByLabel('Risk per trade (%)').fill('50');
    await risk.getByRole('button', { name: 'Save risk' }).click();
    await risk.getByRole('alert').first().waitFor();
    await expect(risk.getByRole('alert').first().textContent()).resolves.toMatch(/riskPerTrade|0\.05|5 ?%/);
    await expect(risk.getByLabel('Risk per trade (%)').getAttribute('aria-invalid')).resolves.toBe('true');
    await checkPage(page, 'settings-error');
    await risk.getByLabel('Risk per trade (%)').fill('1');
    await act(risk, 'Save risk', shows(risk, 'Risk settings saved.'));
    await expect(risk.getByLabel('Risk per trade (%)').inputValue()).resolves.toBe('1');
    await main().getByText(/Risk \(version 2\)/).waitFor(SLOW);
    await checkPage(page, 'settings');
  }, 120_000);

  it('hedge: a manual USD share with an expiry', async () => {
    await open('Company pages', 'Hedge', 'Company: Hedge');
    const form = main().getByRole('form', { name: 'Hedge mode' });
    await form.getByRole('radio', { name: /Manual/ }).check();
    await form.getByLabel('USD share of equity (%)').fill('40');
    await form.getByLabel(/Manual until/).fill(localInput(rt.clock.now() + 2 * 24 * 3_600_000));
    await act(form, 'Save hedge mode', shows(form, 'Hedge mode saved.'));
    await main().getByRole('table', { name: 'Hedge mode changes' }).getByRole('row').filter({ hasText: /manual 40/ }).first().waitFor(SLOW);
    await checkPage(page, 'hedge');
  }, 120_000);

  it('keys: a key Kraken does not know is rejected with a clear message, the emulator key is validated and stored', async () => {
    await open('Company pages', 'Keys and live trading', 'Company: Keys and live trading');
    const form = main().getByRole('form', { name: 'Upload Kraken key for Company' });
    const unknown = generateKey();
    await form.getByLabel('API key').fill(unknown.key);
    await form.getByLabel('Private key').fill(unknown.secret);
    await act(form, 'Upload and validate key', shows(form, /Kraken rejected this key/));
    const key = generateKey();
    rt.emu.addKey({ ...key, tier: 'intermediate', balances: { USD: 25_000 } });
    await form.getByLabel('API key').fill(key.key);
    await form.getByLabel('Private key').fill(key.secret);
    await act(form, 'Upload and validate key', shows(form, /Key accepted by Kraken and stored/));
    const keys = main().getByRole('table', { name: /Keys \(only the fingerprint/ });
    await keys.getByRole('row').filter({ hasText: `…${key.key.slice(-4)}` }).waitFor(SLOW);
    await expect(main().textContent()).resolves.not.toContain(key.secret.slice(0, 12));
    await checkPage(page, 'keys');
  }, 120_000);

  it('go live: only with the confirmation phrase typed exactly; the mode shows LIVE everywhere', async () => {
    const form = main().getByRole('form', { name: 'Go live' });
    const go = form.getByRole('button', { name: 'Go live' });
    await form.getByLabel('Confirmation phrase').fill('LIVE comp');
    await expect(go.isDisabled()).resolves.toBe(true);
    await form.getByLabel('Confirmation phrase').fill('LIVE company');
    // Live, the switch offers the way back: one click.
    await act(form, 'Go live', () => main().getByRole('button', { name: 'Back to simulation' }).isVisible());
    await main().getByRole('table', { name: 'Switches between simulation and live' }).getByRole('row').filter({ hasText: 'switched to LIVE' }).waitFor(SLOW);
    await checkPage(page, 'keys-live');

    await open('Main', 'Dashboard', 'Dashboard');
    await expect.poll(() => accountRow('Company').textContent(), SLOW).toMatch(/LIVE/);
    // Simulated and live money are never added together: one total per mode.
    await accountsTable().getByRole('rowheader', { name: /All live \(1\)/ }).waitFor(SLOW);
    await accountsTable().getByRole('rowheader', { name: /All simulated \(2\)/ }).waitFor();
    await checkPage(page, 'dashboard-live');
  }, 120_000);

  it('halt and resume: the kill switch halts at once with a banner and the reason; an admin resumes with a note', async () => {
    await open('Main', 'Company', 'Company: Overview');
    await main().getByRole('button', { name: 'Stop trading now' }).click();
    const halt = main().getByRole('form', { name: 'Stop trading Company' });
    await halt.getByLabel('Why (recorded in the audit trail)').fill('UI story: operator stop');
    const banner = main().getByRole('region', { name: 'Trading halted' });
    await act(halt, 'Halt Company', () => banner.isVisible());
    await expect(banner.textContent()).resolves.toMatch(/HALTED.*UI story: operator stop/s);
    await checkPage(page, 'account-halted');
    await banner.getByLabel(/Note for the audit trail/).fill('UI story: checked, safe to resume');
    await act(banner, 'Resume trading', async () => !(await banner.isVisible()));
    expect((await rt.db.tradingStates()).map((s) => s.state)).not.toContain('HALTED');
  }, 120_000);

  it('governance: every action of the story in the audit trail, the chain verified', async () => {
    await open('Main', 'Governance', 'Governance');
    await main().getByText('Chain verified:').waitFor(SLOW);
    const trail = main().getByRole('table', { name: 'Audit trail, newest first' });
    await trail.waitFor(SLOW);
    for (const action of ['risk.reset', 'risk.halt', 'settings.simulation', 'keys.upload', 'hedge.override', 'settings.risk']) {
      await expect(trail.getByRole('row').filter({ hasText: action }).filter({ hasText: ADMIN.email }).count(), action).resolves.toBeGreaterThan(0);
    }
    // A row in full: the risk change's before and after.
    const riskRow = trail.getByRole('row').filter({ hasText: 'settings.risk' }).filter({ hasText: ADMIN.email }).first();
    await riskRow.getByText(/^Details of #/).click();
    await riskRow.getByRole('table', { name: 'Before and after' }).getByRole('row').filter({ hasText: 'riskPerTrade' }).filter({ hasText: '0.03' }).filter({ hasText: '0.01' }).waitFor();
    // The system log has the halt among the risk events.
    await main().getByRole('table', { name: 'System log, newest first' }).getByRole('row').filter({ hasText: 'UI story: operator stop' }).first().waitFor(SLOW);
    // The filters: the cycle asked for in the UI, by action.
    await main().getByRole('form', { name: 'Filter the audit trail' }).getByLabel('Action').fill('cycle.requested');
    await expect.poll(() => trail.getByRole('row').filter({ hasText: 'cycle.requested' }).count(), SLOW).toBe(1);
    await checkPage(page, 'governance');
  }, 120_000);

  it('the component catalogue (for the visual editor) and an unknown page pass the same checks', async () => {
    await open('Main', 'Components', 'Component catalogue');
    await checkPage(page, 'catalogue');
    await page.goto(`${rt.url}/no/such/page`);
    await heading('Page not found').waitFor();
    await checkPage(page, 'not-found');
  }, 90_000);

  it('users: the admin creates a viewer of Director 1, who sees only that account and cannot change anything', async () => {
    await open('Main', 'Users', 'Users');
    const form = main().getByRole('form', { name: 'Create a user' });
    await form.getByLabel('Email').fill(VIEWER.email);
    await form.getByLabel('Name').fill(VIEWER.name);
    await form.getByLabel('Initial password').fill(VIEWER.password);
    await form.getByRole('group', { name: 'Accounts this viewer may see' }).getByLabel('Director 1').check();
    await act(form, 'Create user', shows(form, 'User created.'));
    await main().getByRole('rowheader', { name: new RegExp(VIEWER.email) }).waitFor(SLOW);
    await checkPage(page, 'users');

    const viewer = await newUserContext(browser, { timezoneId: ZONE });
    const v = await viewer.newPage();
    try {
      await v.goto(rt.url);
      const login = v.getByRole('form', { name: 'Log in' });
      await login.getByLabel('Email').fill(VIEWER.email);
      await login.getByLabel('Password').fill(VIEWER.password);
      await login.getByRole('button', { name: 'Log in' }).click();
      const vmain = v.getByRole('main');
      // A password an admin chose is changed first.
      const change = v.getByRole('form', { name: 'Change password' });
      await change.or(vmain.getByRole('heading', { name: 'Dashboard', level: 1 })).first().waitFor();
      if (await change.isVisible()) {
        await checkPage(v, 'viewer-password');
        await change.getByLabel('Current (temporary) password').fill(VIEWER.password);
        await change.getByLabel('New password').fill(VIEWER.own);
        await change.getByRole('button', { name: 'Change password' }).click();
      }
      await vmain.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
      const table = vmain.getByRole('table', { name: 'Accounts' });
      await table.getByRole('link', { name: 'Director 1', exact: true }).waitFor(SLOW);
      await expect(table.getByRole('link').allTextContents()).resolves.toEqual(['Director 1']);
      const nav = v.getByRole('navigation', { name: 'Main' });
      await expect(nav.getByRole('link', { name: 'Company', exact: true }).count()).resolves.toBe(0);
      await expect(nav.getByRole('link', { name: 'Users', exact: true }).count()).resolves.toBe(0);
      await checkPage(v, 'viewer-dashboard');

      await nav.getByRole('link', { name: 'Director 1', exact: true }).click();
      await vmain.getByRole('heading', { name: 'Director 1: Overview', level: 1 }).waitFor();
      await vmain.getByRole('button', { name: 'Run a cycle now' }).waitFor(SLOW);
      await expect(vmain.getByRole('button', { name: 'Run a cycle now' }).isDisabled()).resolves.toBe(true);
      await expect(vmain.getByRole('button', { name: 'Stop trading now' }).isDisabled()).resolves.toBe(true);
      await checkPage(v, 'viewer-account');
      const pages = v.getByRole('navigation', { name: 'Director 1 pages' });
      await pages.getByRole('link', { name: 'Configuration' }).click();
      await vmain.getByText(/read-only access/).waitFor();
      await vmain.getByRole('button', { name: 'Save risk' }).waitFor(SLOW);
      for (const save of ['Save trading', 'Save risk', 'Save hedge']) await expect(vmain.getByRole('button', { name: save }).isDisabled(), save).resolves.toBe(true);
      await checkPage(v, 'viewer-settings');
      await pages.getByRole('link', { name: 'Keys and live trading' }).click();
      await vmain.getByRole('button', { name: 'Upload and validate key' }).waitFor(SLOW);
      await expect(vmain.getByRole('button', { name: 'Upload and validate key' }).isDisabled()).resolves.toBe(true);

      // The server refuses too, whatever the page offers: no change to her account, nothing of another.
      await expect(statusFrom(v, 'PATCH', '/accounts/director-1/settings/risk', { riskPerTrade: 0.01 })).resolves.toBe(403);
      await expect(statusFrom(v, 'POST', '/accounts/director-1/trading-state/halt', { note: 'not mine to stop' })).resolves.toBe(403);
      await expect(statusFrom(v, 'GET', '/accounts/company/summary')).resolves.toBeOneOf([403, 404]);
      await expect(statusFrom(v, 'GET', '/accounts/director-1/summary')).resolves.toBe(200);
    } finally {
      await viewer.close();
    }
  }, 180_000);
});
