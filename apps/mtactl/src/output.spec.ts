import { describe, expect, it } from 'vitest';
import { age, formatTable, time } from './output';

describe('output', () => {
  it('aligns table columns and prints missing values as -', () => {
    expect(
      formatTable(
        ['DOMAIN', 'TYPE', 'NOTE'],
        [
          ['example.org', 'local', null],
          ['a.test', 'relay', true],
        ],
      ),
    ).toBe('DOMAIN       TYPE   NOTE\nexample.org  local  -\na.test       relay  yes\n');
  });

  it('prints times in UTC to the second and ages in two units', () => {
    expect(time('2026-12-07T18:25:53.123+01:00')).toBe('2026-12-07T17:25:53Z');
    expect(time(null)).toBe('-');
    expect([age(0), age(40), age(7500), age(3 * 86_400 + 4 * 3600 + 59)]).toEqual([
      '0s',
      '40s',
      '2h 5m',
      '3d 4h',
    ]);
  });
});
