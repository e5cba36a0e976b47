import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
const ACCOUNTS = ['Company', 'Director 1', 'Director 2'];

let rt: UiRuntime;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let totpSecret = '';

const main = (): ReturnType<Page['getByRole']> => page.getByRole('main');
const heading = (name: string | RegExp) => main().getByRole('heading', { name, level: 1 });
const accountsTable = () => main().getByRole('table', { name: 'Accounts' });
const accountRow = (name: string) => accountsTable().getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) });

describe.skipIf(chromiumTestsSkip())('the web UI, in Chromium against the embedded runtime', () => {
  beforeAll(async () => {
    [rt, browser] = await Promise.all([startUiRuntime(), launchChromium()]);
    admin = await newUserContext(browser);
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
});
