import type { NotifyCondition } from '@mta/smtp-protocol';
import { describe, expect, it } from 'vitest';
import { canSendDsn, shouldNotify, type DsnAction } from './notify';

describe('shouldNotify (RFC 3461 §4.1, RFC 3464 §2.3.3)', () => {
  const rows: [NotifyCondition[] | undefined, DsnAction, boolean][] = [
    [undefined, 'failed', true],
    [undefined, 'delayed', true],
    [undefined, 'delivered', false],
    [undefined, 'relayed', false],
    [undefined, 'expanded', false],
    [[], 'failed', true],
    [['NEVER'], 'failed', false],
    [['NEVER'], 'delayed', false],
    [['NEVER'], 'delivered', false],
    [['FAILURE'], 'failed', true],
    [['FAILURE'], 'delayed', false],
    [['DELAY'], 'delayed', true],
    [['DELAY'], 'failed', false],
    [['SUCCESS'], 'delivered', true],
    [['SUCCESS'], 'relayed', true],
    [['SUCCESS'], 'expanded', true],
    [['SUCCESS'], 'failed', false],
    [['SUCCESS', 'FAILURE', 'DELAY'], 'delayed', true],
  ];
  it.each(rows)('NOTIFY=%j, %s → %s', (notify, action, expected) => {
    expect(shouldNotify(notify, action)).toBe(expected);
  });

  it('without NOTIFY, delays are reported unless the MTA chooses FAILURE only', () => {
    expect(shouldNotify(undefined, 'delayed', { delayWhenAbsent: false })).toBe(false);
    expect(shouldNotify(undefined, 'failed', { delayWhenAbsent: false })).toBe(true);
  });
});

describe('canSendDsn: never a DSN to <> (RFC 5321 §4.5.5)', () => {
  it.each([
    [null, false],
    [undefined, false],
    ['', false],
    ['<>', false],
    ['  <>  ', false],
    ['alice@example.com', true],
    ['<alice@example.com>', true],
  ])('%j → %s', (sender, expected) => expect(canSendDsn(sender)).toBe(expected));
});
