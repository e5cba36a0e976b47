/** Which step of the onboarding wizard a visitor resumes at, from what the server says. */

export type OnboardingStep = 'admin' | 'totp' | 'login' | 'accounts' | 'keys' | 'defaults' | 'done';

export const ONBOARDING_STEPS: readonly OnboardingStep[] = ['admin', 'totp', 'accounts', 'keys', 'defaults', 'done'];

export interface OnboardingFacts {
  /** GET /onboarding: whether any admin exists yet. */
  adminExists: boolean;
  /** GET /onboarding: whether the accounts have been created. */
  accountsExist: boolean;
  /** GET /me; null when not logged in. */
  me: { role: 'admin' | 'viewer'; totpEnrolled: boolean } | null;
  /** Steps the admin finished or skipped in this browser (the optional ones leave no trace on the server). */
  finished: ReadonlySet<OnboardingStep>;
}

/**
 * The first step not yet done. The server's state decides the required steps (an admin, their
 * second factor, the accounts); keys and defaults are optional and remembered by the browser.
 */
export function onboardingStep(f: OnboardingFacts): OnboardingStep {
  if (!f.adminExists) return 'admin';
  if (!f.me) return 'login';
  if (f.me.role !== 'admin') return 'done';
  if (!f.me.totpEnrolled) return 'totp';
  if (!f.accountsExist) return 'accounts';
  if (!f.finished.has('keys')) return 'keys';
  if (!f.finished.has('defaults')) return 'defaults';
  return 'done';
}
