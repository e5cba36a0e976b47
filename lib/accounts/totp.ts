import { generateSecret, generateSync, generateURI, verifySync } from 'otplib';

export const newTotpSecret = (): string => generateSecret();
export const totpUri = (secret: string, email: string): string => generateURI({ secret, issuer: 'Aether', label: email });

/** The current code (tests and the CLI's enrolment check). `epoch` in seconds. */
export const totpCode = (secret: string, epochS: number): string => generateSync({ secret, epoch: epochS });

/** Checks a 6-digit code with ±1 step of drift; returns its time step so a code can be used only once. */
export function checkTotp(secret: string, token: string, epochS: number): number | null {
  if (!/^\d{6}$/.test(token)) return null;
  const r = verifySync({ secret, token, epoch: epochS, epochTolerance: 30 });
  return r.valid ? Math.floor(epochS / 30) + r.delta : null;
}
