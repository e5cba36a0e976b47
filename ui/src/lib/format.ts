/** Number and time formatting for the UI: Intl in the user's locale and zone, UTC on hover. */

const usd = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const pct = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'auto' });
const signedPct = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 2, maximumFractionDigits: 2, signDisplay: 'exceptZero' });

const DASH = '—';

/** US dollars, two decimals; a dash for an unknown amount. */
export function formatUsd(value: number | string | null | undefined): string {
  const n = toNumber(value);
  return n === null ? DASH : usd.format(n);
}

/** A fraction as a percentage (0.0123 → 1.23 %); `signed` shows + on gains. */
export function formatPct(fraction: number | null | undefined, signed = false): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return DASH;
  return (signed ? signedPct : pct).format(fraction);
}

/**
 * A crypto amount or price with as many significant decimals as it needs (8 at most, Kraken's
 * precision for most assets), trailing zeros dropped: 0.00012345 stays readable, 65000 is not 65000.00000000.
 */
export function formatAmount(value: number | string | null | undefined, maxDecimals = 8): string {
  const n = toNumber(value);
  if (n === null) return DASH;
  const abs = Math.abs(n);
  const decimals = abs === 0 ? 0 : abs >= 1000 ? 2 : abs >= 1 ? 4 : Math.min(maxDecimals, Math.max(2, 2 - Math.floor(Math.log10(abs)) + 3));
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: Math.min(decimals, maxDecimals), minimumFractionDigits: 0 }).format(n);
}

/** An instant in the user's time zone, e.g. "7 Dec 2026, 14:05:09". */
export function formatTime(iso: string | null | undefined): string {
  const d = toDate(iso);
  return d ? new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' }).format(d) : DASH;
}

/** The same instant in UTC, ISO-like, for the hover title: "2026-12-07 13:05:09 UTC". */
export function formatUtc(iso: string | null | undefined): string {
  const d = toDate(iso);
  return d ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '';
}

/** How long ago, coarse ("3 min ago"), for "last cycle" cells. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  const d = toDate(iso);
  if (!d) return DASH;
  const s = Math.round((now - d.getTime()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  if (Math.abs(s) < 60) return rtf.format(-s, 'second');
  if (Math.abs(s) < 3600) return rtf.format(-Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86400) return rtf.format(-Math.round(s / 3600), 'hour');
  return rtf.format(-Math.round(s / 86400), 'day');
}

function toNumber(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

function toDate(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}
