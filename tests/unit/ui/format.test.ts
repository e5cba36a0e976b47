import { describe, expect, it } from 'vitest';
import { formatAgo, formatAmount, formatPct, formatUsd, formatUtc } from '../../../ui/src/lib/format.ts';

describe('UI number and time formatting', () => {
  it('formats dollars with two decimals and a dash for unknown amounts', () => {
    expect(formatUsd(1234.5)).toMatch(/1,234\.50/);
    expect(formatUsd('99.999')).toMatch(/100\.00/);
    expect(formatUsd(null)).toBe('—');
    expect(formatUsd('not a number')).toBe('—');
  });

  it('shows fractions as percentages, signed on request', () => {
    expect(formatPct(0.0123)).toMatch(/1\.23\s?%/);
    expect(formatPct(0.0123, true)).toMatch(/^\+1\.23\s?%/);
    expect(formatPct(-0.05, true)).toMatch(/^-5\.00\s?%/);
    expect(formatPct(null)).toBe('—');
  });

  it('gives crypto amounts the decimals they need, at most eight', () => {
    expect(formatAmount(0.00012345)).toMatch(/0\.00012345$/);
    expect(formatAmount(1.5)).toBe('1.5');
    expect(formatAmount(65000.123456)).toMatch(/65,000\.12$/);
    expect(formatAmount(0.000000012345)).toMatch(/^0\.00000001$/);
  });

  it('writes the UTC time for the hover title and relative ages', () => {
    expect(formatUtc('2026-12-07T13:05:09.123Z')).toBe('2026-12-07 13:05:09 UTC');
    expect(formatUtc('garbage')).toBe('');
    const now = Date.parse('2026-12-07T13:10:00Z');
    expect(formatAgo('2026-12-07T13:05:00Z', now)).toMatch(/5 minutes ago/);
    expect(formatAgo(null, now)).toBe('—');
  });
});
