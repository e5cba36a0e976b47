import type { CronSchedule } from './cron.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A valid schedule matches within four years (29 February); past that the expression can never fire. */
const HORIZON = 4 * 366 * DAY;

/**
 * The first minute strictly after `after` (epoch ms, UTC) that the schedule fires at. Day-of-month
 * and day-of-week combine as cron does: when both are restricted, either one matching is enough.
 */
export function nextCronTime(s: CronSchedule, after: number): number {
  const domAny = s.dayOfMonth.length === 31;
  const dowAny = s.dayOfWeek.length === 7;
  const dayMatches = (d: Date): boolean => {
    if (!s.month.includes(d.getUTCMonth() + 1)) return false;
    const dom = s.dayOfMonth.includes(d.getUTCDate());
    const dow = s.dayOfWeek.includes(d.getUTCDay());
    return domAny || dowAny ? dom && dow : dom || dow;
  };
  // A day or an hour that cannot match is skipped whole.
  for (let t = Math.floor(after / MINUTE) * MINUTE + MINUTE; t <= after + HORIZON; ) {
    const d = new Date(t);
    if (!dayMatches(d)) t = Math.floor(t / DAY) * DAY + DAY;
    else if (!s.hour.includes(d.getUTCHours())) t = Math.floor(t / HOUR) * HOUR + HOUR;
    else if (!s.minute.includes(d.getUTCMinutes())) t += MINUTE;
    else return t;
  }
  throw new RangeError(`cron expression "${s.expression}" never fires`);
}
