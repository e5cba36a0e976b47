import { describe, expect, it } from 'vitest';
import { onboardingStep, type OnboardingFacts, type OnboardingStep } from '../../../ui/src/lib/onboarding-step.ts';

const admin = { role: 'admin' as const, totpEnrolled: true };
const facts = (over: Partial<OnboardingFacts>): OnboardingFacts => ({ adminExists: true, accountsExist: true, me: admin, finished: new Set<OnboardingStep>(['keys', 'defaults']), ...over });

describe('onboarding wizard step, derived from the server state', () => {
  it('walks the steps in order as each is done', () => {
    expect(onboardingStep(facts({ adminExists: false, accountsExist: false, me: null, finished: new Set() }))).toBe('admin');
    expect(onboardingStep(facts({ accountsExist: false, me: null, finished: new Set() }))).toBe('login');
    expect(onboardingStep(facts({ accountsExist: false, me: { role: 'admin', totpEnrolled: false }, finished: new Set() }))).toBe('totp');
    expect(onboardingStep(facts({ accountsExist: false, finished: new Set() }))).toBe('accounts');
    expect(onboardingStep(facts({ finished: new Set() }))).toBe('keys');
    expect(onboardingStep(facts({ finished: new Set(['keys']) }))).toBe('defaults');
    expect(onboardingStep(facts({}))).toBe('done');
  });

  it('never asks a viewer to set anything up', () => {
    expect(onboardingStep(facts({ accountsExist: false, me: { role: 'viewer', totpEnrolled: false }, finished: new Set() }))).toBe('done');
  });

  it('asks for the admin first even if this browser remembers later steps', () => {
    expect(onboardingStep(facts({ adminExists: false, me: null }))).toBe('admin');
  });
});
