import type { CronSchedule } from './cron.ts';

const MINUTE = 60_000;
/** A valid schedule matches within four years (29 February); past that the expression can never fire. */
const HORIZON = 4 * 366 * 24 * 60;

/**
 * The first minute strictly after `after` (epoch ms, UTC) that the schedule fires at. Day-of-month
 * and day-of-week combine as cron does: when both are restricted, either one matching is enough.
 */
export function nextCronTime(s: CronSchedule, after: number): number {
  const domAny = s.dayOfMonth.length === 31;
  const dowAny = s.dayOfWeek.length === 7;
  let t = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  for (let i = 0; i < HORIZON; i++, t += MINUTE) {
    const d = new Date(t);
    if (!s.minute.includes(d.getUTCMinutes()) || !s.hour.includes(d.getUTCHours()) || !s.month.includes(d.getUTCMonth() + 1)) continue;
    const dom = s.dayOfMonth.includes(d.getUTCDate());
    const dow = s.dayOfWeek.includes(d.getUTCDay());
    if (domAny || dowAny ? dom && dow : dom || dow) return t;
  }
  throw new RangeError(`cron expression "${s.expression}" never fires`);
}
