/** What every command gets, and how commands are declared. */
import type { Readable } from 'node:stream';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { ApiClient } from './client';
import type { Env, Settings } from './config';
import { usageError } from './errors';
import type { Output } from './output';

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Context {
  out: Output;
  env: Env;
  stdin: Readable & { isTTY?: boolean };
  /** `--url`, if given. */
  urlFlag: string | undefined;
  /** Aborted on SIGINT or SIGTERM (ends `events --follow`). */
  signal: AbortSignal;
  settings(): Promise<Settings>;
  client(): Promise<ApiClient>;
  /** A secret from the terminal without echo, or the first line of stdin when it is not one. */
  readSecret(prompt: string, confirm?: boolean): Promise<string>;
}

export interface Command {
  /** After `mtactl <family> <name>`: `<name> [--relay]`. */
  usage: string;
  summary: string;
  options?: ParseArgsOptionsConfig;
  /** Positional arguments: at least `min`, at most `max`. */
  args: { min: number; max: number };
  run(ctx: Context, args: string[], options: OptionValues): Promise<void>;
}

export interface Family {
  summary: string;
  commands: Record<string, Command>;
  /** The command run when none is named (`mtactl queue`, `mtactl tokens`). */
  default?: string;
}

export function str(options: OptionValues, name: string): string | undefined {
  const value = options[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(options: OptionValues, name: string): boolean {
  return options[name] === true;
}

/** A whole number option at least `min`. */
export function int(options: OptionValues, name: string, min = 1): number | undefined {
  const value = str(options, name);
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < min)
    throw usageError(`--${name}: expected a whole number of at least ${min}, got "${value}"`);
  return Number(value);
}

/** Every item of a paginated list, page by page, up to `max`. */
export async function collect<T>(
  page: (cursor: string | undefined, limit: number) => Promise<{ items: T[]; nextCursor: string | null }>,
  max = Number.POSITIVE_INFINITY,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const result = await page(cursor, Math.min(500, max - items.length));
    items.push(...result.items);
    cursor = result.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  return items;
}
