import { describe, expect, it } from 'vitest';
import { splitSqlScript } from '../prisma/sql-script';

describe('splitSqlScript (fix 5 of offline-engine.ts)', () => {
  it.each([
    ['plain statements', 'SELECT 1; SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['no final semicolon', 'SELECT 1;\nSELECT 2', ['SELECT 1', 'SELECT 2']],
    ["a ';' in a string", "SELECT 'a;b'; SELECT 'it''s;'", ["SELECT 'a;b'", "SELECT 'it''s;'"]],
    ['a quoted identifier', 'SELECT 1 AS "x;y"; SELECT 2', ['SELECT 1 AS "x;y"', 'SELECT 2']],
    [
      'a line comment',
      '-- one; two\nSELECT 1; -- three;\nSELECT 2',
      ['-- one; two\nSELECT 1', '-- three;\nSELECT 2'],
    ],
    ['a block comment', '/* a; b */ SELECT 1; SELECT 2', ['/* a; b */ SELECT 1', 'SELECT 2']],
    [
      'a $$ function body',
      'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END; $$; SELECT f();',
      [
        'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN PERFORM 1; RETURN 2; END; $$',
        'SELECT f()',
      ],
    ],
    [
      'a tagged dollar quote holding $$',
      "SELECT $body$ a; $$ b; $body$; SELECT 'c'",
      ['SELECT $body$ a; $$ b; $body$', "SELECT 'c'"],
    ],
    ['a parameter is not a tag', 'PREPARE p AS SELECT $1; SELECT 2', ['PREPARE p AS SELECT $1', 'SELECT 2']],
    ['comment-only tail dropped', 'SELECT 1;\n-- the end\n', ['SELECT 1']],
  ])('%s', (_name, script, statements) => {
    expect(splitSqlScript(script)).toEqual(statements);
  });
});
