/**
 * Validation of 5-field cron expressions (minute hour day-of-month month day-of-week), the
 * dialect the OpenFaaS cron-connector and BullMQ job schedulers both accept. The schedulers take
 * the pattern as written; this module only proves it is well formed before it gets there.
 *
 * Supported per field: `*`, `n`, `a-b`, `*\/s`, `a-b/s`, `a/s`, and comma lists of those; month
 * and weekday names (JAN…DEC, SUN…SAT); weekday 7 means Sunday. Not supported on purpose:
 * seconds fields, `?`, `L`, `W`, `#` and `@hourly`-style macros — dialects disagree on them.
 */

export interface CronFieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

export const CRON_FIELDS: readonly CronFieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

/** The expanded value sets of a valid expression (day-of-week 7 folded into 0). */
export interface CronSchedule {
  readonly expression: string;
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  readonly dayOfWeek: readonly number[];
}

export class CronError extends Error {
  override readonly name = 'CronError';
  constructor(
    readonly expression: string,
    detail: string,
  ) {
    super(`invalid cron expression "${expression}": ${detail}`);
  }
}

function parseValue(raw: string, spec: CronFieldSpec, expression: string): number {
  const byName = spec.names?.indexOf(raw.toUpperCase()) ?? -1;
  if (byName >= 0) return byName + (spec.name === 'month' ? 1 : 0);
  if (!/^\d+$/.test(raw)) {
    const hint = spec.names ? ` or one of ${spec.names.join(',')}` : '';
    throw new CronError(expression, `${spec.name} value "${raw}" is not a number${hint}`);
  }
  const value = Number(raw);
  if (value < spec.min || value > spec.max) {
    throw new CronError(expression, `${spec.name} value ${value} is outside ${spec.min}-${spec.max}`);
  }
  return value;
}

function parseField(field: string, spec: CronFieldSpec, expression: string): number[] {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    if (part === '') throw new CronError(expression, `${spec.name} field "${field}" has an empty list item`);
    const [range, stepText, ...rest] = part.split('/');
    if (rest.length > 0 || range === undefined || range === '') {
      throw new CronError(expression, `${spec.name} item "${part}" is malformed`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0) {
        throw new CronError(expression, `${spec.name} step "${stepText}" must be a positive integer`);
      }
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range.includes('-')) {
      const bounds = range.split('-');
      if (bounds.length !== 2 || bounds[0] === '' || bounds[1] === '') {
        throw new CronError(expression, `${spec.name} range "${range}" is malformed`);
      }
      from = parseValue(bounds[0] as string, spec, expression);
      to = parseValue(bounds[1] as string, spec, expression);
      if (from > to) throw new CronError(expression, `${spec.name} range "${range}" runs backwards`);
    } else {
      from = parseValue(range, spec, expression);
      // `a/s` means "from a to the end, every s"; a bare value is just itself.
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Parses and validates; throws CronError saying which field is wrong and why. */
export function parseCron(expression: string): CronSchedule {
  const fields = expression.trim().split(/\s+/);
  if (expression.trim() === '' || fields.length !== CRON_FIELDS.length) {
    throw new CronError(
      expression,
      `expected 5 space-separated fields (minute hour day-of-month month day-of-week), got ${expression.trim() === '' ? 0 : fields.length}`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields.map((f, i) =>
    parseField(f, CRON_FIELDS[i] as CronFieldSpec, expression),
  ) as [number[], number[], number[], number[], number[]];
  const weekdays = [...new Set(dayOfWeek.map((d) => (d === 7 ? 0 : d)))].sort((a, b) => a - b);
  return { expression, minute, hour, dayOfMonth, month, dayOfWeek: weekdays };
}

export function isValidCron(expression: string): boolean {
  try {
    parseCron(expression);
    return true;
  } catch (error) {
    if (error instanceof CronError) return false;
    throw error;
  }
}
