import { z } from 'zod';

/** One environment variable: its documentation, how it is parsed, its defaults (variables.ts). */
export interface Variable<T> {
  doc: string;
  schema: z.ZodType<T, string>;
  /** Default per profile; `undefined` means the variable is optional and unset. */
  defaults: { production?: string; development?: string };
  /** Never echo the value back in an error (URLs with passwords, tokens). */
  secret?: boolean;
}

export function variable<T, D extends Variable<T>['defaults']>(
  doc: string,
  schema: z.ZodType<T, string>,
  defaults: D,
  secret = false,
) {
  return { doc, schema, defaults, secret };
}

/** Wraps a parser that returns either a value or an error text into a string schema. */
export function parsed<T>(parse: (value: string) => T | string) {
  return z.string().transform((value, ctx): T => {
    const result = parse(value);
    if (typeof result === 'string') {
      ctx.addIssue({ code: 'custom', message: result });
      return z.NEVER;
    }
    return result;
  });
}

export const both = (value: string) => ({ production: value, development: value });

export function integer(min: number, max: number) {
  return parsed((value: string) =>
    /^\d{1,12}$/.test(value) && Number(value) >= min && Number(value) <= max
      ? Number(value)
      : `expected a whole number from ${min} to ${max}, got "${value}"`,
  );
}

export const flag = parsed((value: string) =>
  /^(true|yes|on|1)$/i.test(value)
    ? true
    : /^(false|no|off|0)$/i.test(value)
      ? false
      : `expected true or false, got "${value}"`,
);
