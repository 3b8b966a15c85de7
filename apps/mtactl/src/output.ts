/**
 * What mtactl prints: aligned tables for people, and with `--json` the API's JSON as it came
 * (a list command prints one array of every item it fetched; `events --follow` one event per
 * line, as `postqueue -j` does).
 */
import type { Writable } from 'node:stream';

export type Cell = string | number | boolean | null | undefined;

export class Output {
  constructor(
    readonly stdout: Writable,
    readonly stderr: Writable,
    readonly json: boolean,
  ) {}

  line(text = ''): void {
    this.stdout.write(`${text}\n`);
  }

  /** A note for people on stderr (so that stdout stays what scripts parse). */
  note(text: string): void {
    this.stderr.write(`mtactl: ${text}\n`);
  }

  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One JSON value per line (JSON Lines). */
  printJsonLine(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  table(headers: string[], rows: Cell[][]): void {
    this.stdout.write(formatTable(headers, rows));
  }

  /** `Name:  value` lines, aligned. */
  fields(pairs: [string, Cell][]): void {
    const width = Math.max(...pairs.map(([name]) => name.length)) + 1;
    for (const [name, value] of pairs) this.line(`${`${name}:`.padEnd(width)} ${text(value)}`);
  }
}

export function text(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((row) => row.map(text))];
  const widths = headers.map((_h, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `2026-12-07T17:25:53Z`: ISO 8601 in UTC to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19)}Z`;
}

/** `3d 4h`, `2h 5m`, `40s`. */
export function age(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(seconds));
  for (const [unit, size] of units) {
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
