/**
 * The outcome decision as a table, in the style of Haraka's test/rfc1869.js: one row per case,
 * the reply (code, enhanced status, kind as delivery reports it), the recipient as read, the
 * message's age and the operator's setting, and what the queue manager must make of it. Every
 * enhanced-status class (2, 4, 5; RFC 3463 §3.1) and every subject (X.0 to X.7) has its row.
 */
import type { RecipientStatus } from '@mta/db';
import { describe, expect, it } from 'vitest';
import { decideOutcome, isHardBounce, type Decision } from './outcome';
import { DEFAULT_SCHEDULE } from './schedule';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = new Date('2026-12-01T00:00:00.000Z');
const EXPIRY = DEFAULT_SCHEDULE.expireAfterMs; // 5 days

type Kind = 'delivered' | 'deferred' | 'failed';

interface Row {
  /** The reply: `250 2.0.0`, `421` (no enhanced code), ... */
  reply: string;
  kind: Kind;
  /** The recipient as read: status and attempts so far. Default queued, 0. */
  status?: RecipientStatus;
  attempts?: number;
  /** The outcome's attempt number. Default attempts + 1. */
  attempt?: number;
  /** The message's age when the outcome is applied. Default 1 minute. */
  age?: number;
  /** suppressHardBounces. Default true. */
  setting?: boolean;
  /** What must come of it: `deliver`, `defer +5m`, `deferHeld +5m`, `fail`, `fail+suppress`, `expire`, `stale`. */
  expect: string;
}

// prettier-ignore
const ROWS: [string, Row][] = [
  // Class 2: success (RFC 3463 §3.1). Delivered whatever the subject.
  ['2.0.0 delivered',                            { reply: '250 2.0.0', kind: 'delivered', expect: 'deliver' }],
  ['2.1.5 destination address valid',           { reply: '250 2.1.5', kind: 'delivered', expect: 'deliver' }],
  ['2.6.0 (LMTP) delivered',                     { reply: '250 2.6.0', kind: 'delivered', expect: 'deliver' }],
  ['250 without an enhanced code',               { reply: '250', kind: 'delivered', expect: 'deliver' }],
  ['a held recipient whose running delivery succeeded', { reply: '250 2.0.0', kind: 'delivered', status: 'held', expect: 'deliver' }],
  ['deferred before: now delivered on attempt 3', { reply: '250 2.0.0', kind: 'delivered', status: 'deferred', attempts: 2, expect: 'deliver' }],

  // Class 4: persistent transient failure. Deferred per the schedule: 5 min after attempt 1,
  // doubling (attempt 3: 20 min), never past the expiry.
  ['4.0.0 other',                                { reply: '451 4.0.0', kind: 'deferred', expect: 'defer +5m' }],
  ['4.1.1 mailbox unknown, for now',             { reply: '450 4.1.1', kind: 'deferred', expect: 'defer +5m' }],
  ['4.2.1 mailbox busy',                         { reply: '450 4.2.1', kind: 'deferred', expect: 'defer +5m' }],
  ['4.2.2 mailbox full',                         { reply: '452 4.2.2', kind: 'deferred', expect: 'defer +5m' }],
  ['4.3.0 mail system',                          { reply: '451 4.3.0', kind: 'deferred', expect: 'defer +5m' }],
  ['4.4.1 no answer from host',                  { reply: '421 4.4.1', kind: 'deferred', expect: 'defer +5m' }],
  ['4.4.2 bad connection',                       { reply: '421 4.4.2', kind: 'deferred', expect: 'defer +5m' }],
  ['4.5.3 too many recipients',                  { reply: '452 4.5.3', kind: 'deferred', expect: 'defer +5m' }],
  ['4.6.0 media',                                { reply: '451 4.6.0', kind: 'deferred', expect: 'defer +5m' }],
  ['4.7.1 greylisted',                           { reply: '451 4.7.1', kind: 'deferred', expect: 'defer +5m' }],
  ['421 without an enhanced code (connection refused)', { reply: '421', kind: 'deferred', expect: 'defer +5m' }],
  ['attempt 3 waits 20 minutes',                 { reply: '450 4.2.1', kind: 'deferred', status: 'deferred', attempts: 2, expect: 'defer +20m' }],
  ['attempt 30 waits the 4 h cap',               { reply: '450 4.2.1', kind: 'deferred', status: 'deferred', attempts: 29, expect: 'defer +240m' }],
  ['the next try never goes past the expiry',    { reply: '450 4.2.1', kind: 'deferred', attempts: 9, age: EXPIRY - 10 * MIN, expect: 'defer +10m' }],
  ['deferred at the expiry: expired (4.4.7)',    { reply: '450 4.2.1', kind: 'deferred', attempts: 9, age: EXPIRY, expect: 'expire' }],
  ['deferred after the expiry: expired',         { reply: '421', kind: 'deferred', age: 6 * DAY, expect: 'expire' }],
  ['a held recipient stays held, due later',     { reply: '451 4.7.1', kind: 'deferred', status: 'held', expect: 'deferHeld +5m' }],
  ['a held recipient past the expiry: expired',  { reply: '451 4.7.1', kind: 'deferred', status: 'held', age: EXPIRY, expect: 'expire' }],
  ['450 5.1.1: the reply code decides, not the enhanced class', { reply: '450 5.1.1', kind: 'deferred', expect: 'defer +5m' }],

  // Class 5: permanent failure. A hard bounce (the address does not exist) also suppresses.
  ['5.0.0 other',                                { reply: '550 5.0.0', kind: 'failed', expect: 'fail' }],
  ['5.1.0 other address status',                 { reply: '550 5.1.0', kind: 'failed', expect: 'fail' }],
  ['5.1.1 bad destination mailbox',              { reply: '550 5.1.1', kind: 'failed', expect: 'fail+suppress' }],
  ['5.1.2 bad destination system (NXDOMAIN)',    { reply: '550 5.1.2', kind: 'failed', expect: 'fail+suppress' }],
  ['5.1.3 bad destination mailbox syntax',       { reply: '501 5.1.3', kind: 'failed', expect: 'fail+suppress' }],
  ['5.1.4 ambiguous destination',                { reply: '550 5.1.4', kind: 'failed', expect: 'fail' }],
  ['5.1.6 mailbox moved, no forwarding address', { reply: '550 5.1.6', kind: 'failed', expect: 'fail+suppress' }],
  ['5.1.7 bad sender address: not the recipient', { reply: '553 5.1.7', kind: 'failed', expect: 'fail' }],
  ['5.1.10 null MX (RFC 7505)',                  { reply: '556 5.1.10', kind: 'failed', expect: 'fail+suppress' }],
  ['5.2.1 mailbox disabled: may come back',      { reply: '550 5.2.1', kind: 'failed', expect: 'fail' }],
  ['5.2.2 mailbox full',                         { reply: '552 5.2.2', kind: 'failed', expect: 'fail' }],
  ['5.3.4 message too big',                      { reply: '552 5.3.4', kind: 'failed', expect: 'fail' }],
  ['5.4.4 unable to route',                      { reply: '550 5.4.4', kind: 'failed', expect: 'fail' }],
  ['5.5.2 syntax error',                         { reply: '500 5.5.2', kind: 'failed', expect: 'fail' }],
  ['5.6.7 non-ASCII address, no SMTPUTF8',       { reply: '554 5.6.7', kind: 'failed', expect: 'fail' }],
  ['5.7.1 refused by policy: about this mail, not the address', { reply: '550 5.7.1', kind: 'failed', expect: 'fail' }],
  ['550 without an enhanced code: could be anything', { reply: '550', kind: 'failed', expect: 'fail' }],
  ['5.1.1 with suppressHardBounces off',         { reply: '550 5.1.1', kind: 'failed', setting: false, expect: 'fail' }],
  ['5.1.1 after the expiry: still a failure, not an expiry', { reply: '550 5.1.1', kind: 'failed', age: 6 * DAY, expect: 'fail+suppress' }],
  ['a held recipient whose running delivery failed', { reply: '550 5.1.1', kind: 'failed', status: 'held', expect: 'fail+suppress' }],

  // Results that no longer apply: a replayed or late outcome changes nothing.
  ['already delivered',                          { reply: '250 2.0.0', kind: 'delivered', status: 'delivered', expect: 'stale' }],
  ['already bounced',                            { reply: '550 5.1.1', kind: 'failed', status: 'bounced', attempts: 1, attempt: 1, expect: 'stale' }],
  ['failed, DSN not yet written',                { reply: '450 4.2.1', kind: 'deferred', status: 'failed', expect: 'stale' }],
  ['this attempt was applied already',           { reply: '450 4.2.1', kind: 'deferred', status: 'deferred', attempts: 2, attempt: 2, expect: 'stale' }],
  ['an older attempt arriving late',             { reply: '250 2.0.0', kind: 'delivered', status: 'deferred', attempts: 3, attempt: 2, expect: 'stale' }],
];

function decide(row: Row): Decision {
  const [code, enhanced] = row.reply.split(' ');
  const attempts = row.attempts ?? 0;
  const now = new Date(T0.getTime() + (row.age ?? MIN));
  const { decisions } = decideOutcome({
    attempt: row.attempt ?? attempts + 1,
    results: [{ recipientId: 'r', kind: row.kind, code: Number(code), enhanced }],
    recipients: new Map([['r', { status: row.status ?? 'queued', attempts }]]),
    schedule: DEFAULT_SCHEDULE,
    receivedAt: T0,
    now,
    random: () => 0.5, // the middle of the jitter: the nominal delay
    suppressHardBounces: row.setting ?? true,
  });
  return decisions[0];
}

function describeDecision(d: Decision, now: Date): string {
  if (d.move === 'fail') return d.suppress ? 'fail+suppress' : 'fail';
  if (d.move === 'defer' || d.move === 'deferHeld')
    return `${d.move} +${Math.round((d.nextAttemptAt.getTime() - now.getTime()) / MIN)}m`;
  return d.move;
}

describe('the outcome decision', () => {
  it.each(ROWS)('%s', (_what, row) => {
    const now = new Date(T0.getTime() + (row.age ?? MIN));
    expect(describeDecision(decide(row), now)).toBe(row.expect);
  });

  it('gives every recipient one attempt deferred together the same next try (one job for them)', () => {
    const { decisions, nextAttemptAt } = decideOutcome({
      attempt: 1,
      results: [
        { recipientId: 'a', kind: 'deferred', code: 451, enhanced: '4.7.1' },
        { recipientId: 'b', kind: 'deferred', code: 421 },
        { recipientId: 'a', kind: 'delivered', code: 250 }, // a duplicate: the first counts
        { recipientId: 'gone', kind: 'delivered', code: 250 },
      ],
      recipients: new Map([
        ['a', { status: 'queued', attempts: 0 }],
        ['b', { status: 'queued', attempts: 0 }],
      ]),
      schedule: DEFAULT_SCHEDULE,
      receivedAt: T0,
      now: T0,
      random: Math.random,
      suppressHardBounces: false,
    });
    expect(decisions.map((d) => d.move)).toEqual(['defer', 'defer', 'stale', 'stale']);
    const [a, b] = decisions;
    expect(a).toEqual(b);
    expect(a).toEqual({ move: 'defer', nextAttemptAt });
  });

  it.each([
    ['5.1.1', 550, true],
    ['5.01.001', 550, true],
    ['5.1.10', 556, true],
    ['5.1.11', 550, false],
    ['4.1.1', 550, false],
    ['5.1.1', 450, false],
    [undefined, 550, false],
  ])('isHardBounce(%s, %i) is %s', (enhanced, code, hard) => {
    expect(isHardBounce(code, enhanced)).toBe(hard);
  });
});
