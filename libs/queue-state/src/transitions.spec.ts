import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MESSAGE,
  RECIPIENT,
  messageMoveAllowed,
  recipientMoveAllowed,
  renderTransitions,
  type Transition,
} from './transitions';
import { FINISHED, MESSAGE_STATES, OPEN, RECIPIENT_STATUSES, WAITING } from './vocabulary';

const root = path.resolve(__dirname, '../../..');
/** The READMEs that show the table, between these two lines. */
const DOCS = ['libs/queue-state/README.md', 'README.md'];
const BEGIN = '<!-- transitions: generated from libs/queue-state/src/transitions.ts -->';
const END = '<!-- /transitions -->';

/** A Markdown table's cells, whatever its alignment (prettier pads the columns). */
const cells = (markdown: string): string[][] =>
  markdown
    .split('\n')
    .filter((l) => l.trim().startsWith('|'))
    .map((l) =>
      l
        .trim()
        .slice(1, -1)
        .split('|')
        .map((c) => c.trim()),
    )
    .filter((row) => !row.every((c) => /^:?-+:?$/.test(c)));

function section(file: string): { text: string; start: number; end: number } {
  const text = readFileSync(path.join(root, file), 'utf8');
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file}: no "${BEGIN}" ... "${END}" section`);
  return { text, start: start + BEGIN.length, end };
}

describe('the transitions table', () => {
  it('reaches every state and leaves every state that is not final', () => {
    const messageTargets = new Set(Object.values(MESSAGE).map((t: Transition<string>) => t.to));
    expect(MESSAGE_STATES.filter((s) => !messageTargets.has(s))).toEqual([]);
    const recipientTargets = new Set(Object.values(RECIPIENT).map((t: Transition<string>) => t.to));
    expect(RECIPIENT_STATUSES.filter((s) => !recipientTargets.has(s))).toEqual([]);
    const left = new Set(Object.values(RECIPIENT).flatMap((t: Transition<string>) => [...t.from]));
    // `failed` is final too when no DSN is due; `delivered` and `bounced` always.
    expect(RECIPIENT_STATUSES.filter((s) => !left.has(s))).toEqual([...FINISHED]);
  });

  it('answers the questions the code asks', () => {
    for (const s of WAITING) expect(recipientMoveAllowed(s, 'delivered')).toBe(true);
    expect(recipientMoveAllowed('delivered', 'queued')).toBe(false);
    expect(recipientMoveAllowed('bounced', 'failed')).toBe(false);
    expect(recipientMoveAllowed('held', 'queued')).toBe(true);
    expect(recipientMoveAllowed('held', 'deferred')).toBe(false);
    expect(messageMoveAllowed('received', 'queued')).toBe(true);
    expect(messageMoveAllowed('done', 'queued')).toBe(false);
    expect(OPEN).toEqual(['queued', 'deferred', 'held']);
  });

  it.each(DOCS)('is what %s shows (UPDATE_DOCS=1 rewrites it)', (file) => {
    const rendered = renderTransitions();
    const { text, start, end } = section(file);
    if (process.env['UPDATE_DOCS'] === '1') {
      writeFileSync(path.join(root, file), `${text.slice(0, start)}\n\n${rendered}\n\n${text.slice(end)}`);
      return;
    }
    expect(cells(text.slice(start, end)), `${file} is out of date; expected:\n${rendered}`).toEqual(
      cells(rendered),
    );
  });
});
