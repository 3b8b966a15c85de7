/**
 * A small placeholder builder for the hot-path statements of this folder: values go into the
 * text where they are used, as `param(value, 'uuid[]')`, and `statement()` numbers them
 * (`$1`, `$2`, ...) in order of first use. The same `Param` used twice is one placeholder. No
 * statement numbers its parameters by hand, so adding one cannot shift the others.
 *
 * Named and unnamed statements. A statement sent with a `name` is prepared once per connection:
 * PostgreSQL skips parsing and analysis from then on, and after five runs it may switch to a
 * generic plan that it keeps for the connection's life. That suits a statement whose plan cannot
 * depend on the data: intake's insert (`insertMessages`: only INSERTs, whose text depends on the
 * number of body chunks alone). Every statement that reads or updates rows by a condition is sent
 * unnamed, so it is planned for its parameters and the tables as they are now: a plan made while
 * the tables were small (a new server, a quiet hour) reads whole tables once they are not, and
 * the queue's tables swing from empty to large and back within minutes (the measurements are in
 * bench/README.md, "e2e", "named statements").
 */
export class Param {
  constructor(
    readonly value: unknown,
    /** The PostgreSQL type it is cast to (`uuid[]`, `timestamptz`), or none. */
    readonly type?: string,
  ) {}
}

/** A piece of SQL text with its parameters, from the `sql` tag. */
export class Fragment {
  constructor(
    readonly strings: readonly string[],
    readonly parts: readonly (Param | Fragment)[],
  ) {}
}

/** A parameter: `param(ids, 'uuid[]')` becomes `$n::uuid[]`. */
export const param = (value: unknown, type?: string): Param => new Param(value, type);

/** SQL text with parameters and nested fragments in it. */
export function sql(strings: TemplateStringsArray, ...parts: (Param | Fragment)[]): Fragment {
  return new Fragment([...strings], parts);
}

/** The parts with `separator` between them (`, ` for a list of parameters). */
export function join(parts: readonly (Param | Fragment)[], separator: string): Fragment {
  if (parts.length === 0) return new Fragment([''], []);
  return new Fragment(['', ...parts.slice(1).map(() => separator), ''], parts);
}

/** What `pg.Pool.query` takes. */
export interface Statement {
  readonly text: string;
  readonly values: unknown[];
  /** Set for the few prepared statements (see the comment above). */
  readonly name?: string;
}

export function statement(fragment: Fragment, name?: string): Statement {
  const values: unknown[] = [];
  const numbers = new Map<Param, number>();
  const render = (f: Fragment): string => {
    let text = f.strings[0];
    f.parts.forEach((part, i) => {
      if (part instanceof Fragment) text += render(part);
      else {
        let n = numbers.get(part);
        if (n === undefined) {
          values.push(part.value);
          n = values.length;
          numbers.set(part, n);
        }
        text += part.type ? `$${n}::${part.type}` : `$${n}`;
      }
      text += f.strings[i + 1];
    });
    return text;
  };
  const text = render(fragment);
  return name === undefined ? { text, values } : { text, values, name };
}
