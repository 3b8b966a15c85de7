import { describe, expect, it } from 'vitest';
import { join, param, sql, statement } from './builder';

describe('the placeholder builder', () => {
  it('numbers parameters in order of first use, with their types', () => {
    const a = param(['x'], 'text[]');
    const s = statement(sql`SELECT * FROM t WHERE a = ANY(${a}) AND b = ${param(2)} OR c = ANY(${a})`);
    expect(s).toEqual({
      text: 'SELECT * FROM t WHERE a = ANY($1::text[]) AND b = $2 OR c = ANY($1::text[])',
      values: [['x'], 2],
    });
  });

  it('nests fragments and joins lists, empty ones too', () => {
    const inner = sql`x = ${param(1, 'int')}`;
    const list = join([param('a'), param('b')], ', ');
    expect(statement(sql`SELECT ${list} WHERE ${inner} AND y IN (${join([], ', ')})`, 'named')).toEqual({
      text: 'SELECT $1, $2 WHERE x = $3::int AND y IN ()',
      values: ['a', 'b', 1],
      name: 'named',
    });
  });

  it('gives the same text for the same shape (a named statement)', () => {
    const build = (v: number) => statement(sql`SELECT ${param(v, 'int')}`, 'n').text;
    expect(build(1)).toBe(build(2));
  });
});
