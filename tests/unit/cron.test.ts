import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRON_FIELDS, CronError, isValidCron, parseCron } from '../../lib/runtime/cron.ts';

const range = (from: number, to: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
};

describe('parseCron accepts the 5-field dialect', () => {
  it.each([
    ['1 * * * *', { minute: [1], hour: range(0, 23), dayOfMonth: range(1, 31), month: range(1, 12), dayOfWeek: range(0, 6) }],
    ['*/5 * * * *', { minute: range(0, 59, 5) }],
    ['15 * * * *', { minute: [15] }],
    ['5 0 * * *', { minute: [5], hour: [0] }],
    ['30 2 * * *', { minute: [30], hour: [2] }],
    ['0 9-17/4 * * MON-FRI', { hour: [9, 13, 17], dayOfWeek: [1, 2, 3, 4, 5] }],
    ['0,30 */6 1,15 JAN,jul *', { minute: [0, 30], hour: [0, 6, 12, 18], dayOfMonth: [1, 15], month: [1, 7] }],
    ['10/20 * * * *', { minute: [10, 30, 50] }],
    ['0 0 * * 7', { dayOfWeek: [0] }],
    ['0 0 * * 0,7,SUN', { dayOfWeek: [0] }],
    ['  0   12 * *   5 ', { minute: [0], hour: [12], dayOfWeek: [5] }],
    ['59 23 31 12 6', { minute: [59], hour: [23], dayOfMonth: [31], month: [12], dayOfWeek: [6] }],
  ])('%s', (expression, expected) => {
    const parsed = parseCron(expression);
    expect(parsed).toMatchObject(expected);
    expect(isValidCron(expression)).toBe(true);
  });
});

describe('parseCron rejects malformed expressions with a message naming the problem', () => {
  it.each([
    ['', /expected 5 space-separated fields.*got 0/],
    ['* * * *', /expected 5 .* got 4/],
    ['0 * * * * *', /expected 5 .* got 6/],
    ['60 * * * *', /minute value 60 is outside 0-59/],
    ['* 24 * * *', /hour value 24 is outside 0-23/],
    ['* * 0 * *', /day-of-month value 0 is outside 1-31/],
    ['* * * 13 *', /month value 13 is outside 1-12/],
    ['* * * * 8', /day-of-week value 8 is outside 0-7/],
    ['*/0 * * * *', /minute step "0" must be a positive integer/],
    ['*/x * * * *', /minute step "x" must be a positive integer/],
    ['5-1 * * * *', /minute range "5-1" runs backwards/],
    ['1-2-3 * * * *', /minute range "1-2-3" is malformed/],
    ['1, * * * *', /minute field "1," has an empty list item/],
    ['1/2/3 * * * *', /minute item "1\/2\/3" is malformed/],
    ['a * * * *', /minute value "a" is not a number$/],
    ['* * * FOO *', /month value "FOO" is not a number or one of JAN/],
    ['@hourly', /expected 5/],
    ['? * * * *', /minute value "\?" is not a number/],
    ['-5 * * * *', /minute range "-5" is malformed/],
  ])('%j', (expression, message) => {
    expect(() => parseCron(expression)).toThrow(CronError);
    expect(() => parseCron(expression)).toThrow(message);
    expect(isValidCron(expression)).toBe(false);
  });
});

// A generated field item and the value set it must denote, computed independently of the parser.
const fieldItem = (min: number, max: number) =>
  fc.oneof(
    fc.constant({ text: '*', values: range(min, max) }),
    fc.integer({ min, max }).map((v) => ({ text: String(v), values: [v] })),
    fc
      .tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.integer({ min: 1, max: max - min + 1 }))
      .map(([a, b, s]) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return { text: `${lo}-${hi}/${s}`, values: range(lo, hi, s) };
      }),
    fc.integer({ min: 1, max: max - min + 1 }).map((s) => ({ text: `*/${s}`, values: range(min, max, s) })),
  );

const field = (min: number, max: number) =>
  fc.array(fieldItem(min, max), { minLength: 1, maxLength: 3 }).map((items) => ({
    text: items.map((i) => i.text).join(','),
    values: [...new Set(items.flatMap((i) => i.values))].sort((a, b) => a - b),
  }));

describe('parseCron properties', () => {
  it('expands every generated valid expression to exactly the values it denotes', () => {
    const [minute, hour, dom, month] = CRON_FIELDS.map((f) => field(f.min, f.max));
    const weekday = field(0, 6);
    fc.assert(
      fc.property(fc.tuple(minute!, hour!, dom!, month!, weekday), (fields) => {
        const parsed = parseCron(fields.map((f) => f.text).join(' '));
        expect([parsed.minute, parsed.hour, parsed.dayOfMonth, parsed.month, parsed.dayOfWeek]).toEqual(
          fields.map((f) => f.values),
        );
      }),
    );
  });

  it('rejects any out-of-range value in any field', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 1000 }), (index, excess) => {
        const spec = CRON_FIELDS[index]!;
        const fields = ['*', '*', '*', '*', '*'];
        fields[index] = String(spec.max + excess);
        expect(() => parseCron(fields.join(' '))).toThrow(`${spec.name} value ${spec.max + excess} is outside`);
      }),
    );
  });
});
