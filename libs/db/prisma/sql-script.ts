/**
 * Splits a migration script into statements at the `;` that end them, and only those: not inside
 * quotes ('...', "..."), dollar quotes ($$...$$, $tag$...$tag$, the bodies of plpgsql functions),
 * or comments (-- to the end of the line, /* ... *\/). @prisma/adapter-pg 6.19's `executeScript`
 * splits on every `;`, which cuts a trigger function's body in pieces (fix 5 of offline-engine.ts).
 */
export function splitSqlScript(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < script.length) {
    const skipped = skipQuoted(script, i);
    if (skipped > i) {
      i = skipped;
    } else if (script[i] === ';') {
      statements.push(script.slice(start, i));
      start = ++i;
    } else {
      i++;
    }
  }
  statements.push(script.slice(start));
  return statements.map((s) => s.trim()).filter((s) => s.length > 0 && !isOnlyComments(s));
}

/** Where the quoted text or comment starting at `i` ends (just past it), or `i` if none starts. */
function skipQuoted(s: string, i: number): number {
  const two = s.slice(i, i + 2);
  if (two === '--') return endOf(s, '\n', i + 2);
  if (two === '/*') return endOf(s, '*/', i + 2);
  if (s[i] === "'" || s[i] === '"') return endOf(s, s[i], i + 1);
  const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(s.slice(i, i + 64))?.[0];
  // `$1` is a parameter, not a tag: a tag is empty or starts with a letter or `_`.
  if (tag && !/^\$\d/.test(tag)) return endOf(s, tag, i + tag.length);
  return i;
}

/** Just past the next `close` from `from`, or the end of the text. Doubled quotes ('') re-open. */
function endOf(s: string, close: string, from: number): number {
  const at = s.indexOf(close, from);
  return at < 0 ? s.length : at + close.length;
}

function isOnlyComments(statement: string): boolean {
  return (
    statement
      .replace(/--[^\n]*(\n|$)/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() === ''
  );
}
