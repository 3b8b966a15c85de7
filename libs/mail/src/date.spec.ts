import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDate, parseDate } from './date';

describe('formatDate (RFC 5322 §3.3)', () => {
  it.each([
    ['2026-11-26T16:00:00Z', 0, 'Thu, 26 Nov 2026 16:00:00 +0000'],
    ['2026-11-26T16:00:00Z', 60, 'Thu, 26 Nov 2026 17:00:00 +0100'],
    ['2026-11-26T16:00:00Z', -330, 'Thu, 26 Nov 2026 10:30:00 -0530'],
    ['2026-01-01T00:00:05Z', -60, 'Wed, 31 Dec 2025 23:00:05 -0100'],
    ['2024-02-29T09:08:07Z', 0, 'Thu, 29 Feb 2024 09:08:07 +0000'],
    ['0999-03-01T00:00:00Z', 0, 'Fri, 1 Mar 0999 00:00:00 +0000'],
  ])('%s at %i min → %s', (iso, offset, expected) => {
    expect(formatDate(new Date(iso), offset)).toBe(expected);
  });

  it('refuses an invalid date or offset', () => {
    expect(() => formatDate(new Date(NaN))).toThrow(RangeError);
    expect(() => formatDate(new Date(), 24 * 60)).toThrow(RangeError);
    expect(() => formatDate(new Date(), 1.5)).toThrow(RangeError);
  });
});

describe('parseDate', () => {
  it.each([
    ['Thu, 26 Nov 2026 16:00:00 +0000', '2026-11-26T16:00:00.000Z'],
    ['26 Nov 2026 17:00 +0100', '2026-11-26T16:00:00.000Z'],
    ['Thu, 26 Nov 2026 16:00:00 +0000 (UTC)', '2026-11-26T16:00:00.000Z'],
    ['Thu,\t26 nov 2026 16:00:00 GMT', '2026-11-26T16:00:00.000Z'],
    ['Thu, 26 Nov 26 11:00:00 EST', '2026-11-26T16:00:00.000Z'],
    ['Fri, 21 Nov 97 09:55:06 -0600', '1997-11-21T15:55:06.000Z'],
    ['Fri, 21 Nov 097 09:55:06 -0600', '1997-11-21T15:55:06.000Z'],
    ['1 Jan 2000 00:00:00 A', '2000-01-01T00:00:00.000Z'],
    ['Thu, 26 Nov 2026 16:00:60 +0000', '2026-11-26T16:00:59.000Z'],
  ])('%s', (text, iso) => {
    expect(parseDate(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '31 Feb 2026 00:00:00 +0000',
    '26 Foo 2026 16:00:00 +0000',
    '26 Nov 2026 24:00:00 +0000',
    '2026-11-26T16:00:00Z',
  ])('rejects %j', (text) => expect(parseDate(text)).toBeUndefined());

  it('reads back what formatDate writes (property)', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1900-01-01T00:00:00Z'),
          max: new Date('9999-12-31T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: -1439, max: 1439 }),
        (d, offset) => {
          const whole = new Date(Math.floor(d.getTime() / 1000) * 1000);
          expect(parseDate(formatDate(whole, offset))?.getTime()).toBe(whole.getTime());
        },
      ),
    );
  });
});
