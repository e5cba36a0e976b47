import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { csvField, csvRecord } from '../../../lib/reports/csv.ts';
import { parseCsv } from './rfc4180.ts';

describe('csvField', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['"', '""""'],
    ['line\nbreak', '"line\nbreak"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    ['crlf\r\n', '"crlf\r\n"'],
    ['', ''],
    [' spaced ', ' spaced '],
    [null, ''],
    [undefined, ''],
    [1.5, '1.5'],
    [new Date('2026-01-05T12:00:00.123Z'), '2026-01-05T12:00:00.123Z'],
  ])('%j → %j', (v, out) => {
    expect(csvField(v)).toBe(out);
  });
});

describe('csvRecord', () => {
  it('joins with commas and ends with CRLF', () => {
    expect(csvRecord(['a', 'b,c', null])).toBe('a,"b,c",\r\n');
  });

  it('round-trips any fields through an RFC 4180 parser', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ unit: fc.constantFrom('a', ',', '"', '\r', '\n', ' ', 'é') }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 5 }), (rows) => {
        // A lone empty field is an empty line, which RFC 4180 cannot tell from no field: give such rows two.
        const fixed = rows.map((r) => (r.length === 1 && r[0] === '' ? ['', ''] : r));
        expect(parseCsv(fixed.map(csvRecord).join(''))).toEqual(fixed);
      }),
    );
  });
});
