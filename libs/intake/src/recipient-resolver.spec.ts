import { parseCommand, SmtpError, type RcptCommand } from '@mta/smtp-protocol';
import { describe, expect, it } from 'vitest';
import type { Directory } from './directory';
import { RecipientResolver } from './recipient-resolver';

const directory: Directory = {
  async domain(name) {
    if (name === 'local.example') return { type: 'local', acceptAll: false, dmarcEnforce: true };
    if (name === 'catchall.example') return { type: 'local', acceptAll: true, dmarcEnforce: false };
    if (name === 'relay.example') return { type: 'relay', acceptAll: false, dmarcEnforce: true };
    return null;
  },
  async mailboxExists(address) {
    return ['alice@local.example', 'sales@local.example'].includes(address);
  },
};
const resolver = new RecipientResolver(directory, 'local.example');

function rcpt(line: string): RcptCommand {
  const parsed = parseCommand(line);
  if (!parsed.ok || parsed.command.verb !== 'RCPT') throw new Error(`not a RCPT: ${line}`);
  return parsed.command;
}

async function outcome(line: string, authenticated = false): Promise<string> {
  try {
    const r = await resolver.resolve(rcpt(line).to, { authenticated });
    return `${r.route} ${r.address}`;
  } catch (error) {
    if (error instanceof SmtpError) return `${error.code} ${error.enhanced}`;
    throw error;
  }
}

describe('RecipientResolver', () => {
  it.each([
    // Local mailboxes.
    ['RCPT TO:<alice@local.example>', 'local alice@local.example'],
    ['RCPT TO:<Alice@LOCAL.Example>', 'local Alice@local.example'],
    ['RCPT TO:<sales@local.example>', 'local sales@local.example'],
    ['RCPT TO:<nobody@local.example>', '550 5.1.1'],
    ['RCPT TO:<anyone@catchall.example>', 'local anyone@catchall.example'],
    // postmaster always exists (RFC 5321 §4.5.1), bare or qualified, any case.
    ['RCPT TO:<postmaster@local.example>', 'local postmaster@local.example'],
    ['RCPT TO:<PostMaster@local.example>', 'local PostMaster@local.example'],
    ['RCPT TO:<postmaster>', 'local postmaster@local.example'],
    // Relay domains are accepted without a mailbox check.
    ['RCPT TO:<anyone@relay.example>', 'relay anyone@relay.example'],
    // Never an open relay.
    ['RCPT TO:<victim@remote.example>', '554 5.7.1'],
    ['RCPT TO:<postmaster@remote.example>', '554 5.7.1'],
    ['RCPT TO:<@local.example:victim@remote.example>', '554 5.7.1'],
    ['RCPT TO:<@local.example,@relay.example:victim@remote.example>', '554 5.7.1'],
    ['RCPT TO:<victim%remote.example@local.example>', '554 5.7.1'],
    ['RCPT TO:<"victim@remote.example"@local.example>', '554 5.7.1'],
    ['RCPT TO:<remote.example!victim@local.example>', '554 5.7.1'],
    ['RCPT TO:<victim%remote.example@relay.example>', '554 5.7.1'],
    ['RCPT TO:<victim@[192.0.2.1]>', '554 5.7.1'],
    ['RCPT TO:<victim@[IPv6:2001:db8::1]>', '554 5.7.1'],
  ])('unauthenticated %s → %s', async (line, expected) => {
    expect(await outcome(line)).toBe(expected);
  });

  it.each([
    ['RCPT TO:<friend@remote.example>', 'remote friend@remote.example'],
    ['RCPT TO:<alice@local.example>', 'local alice@local.example'],
    ['RCPT TO:<nobody@local.example>', '550 5.1.1'],
    ['RCPT TO:<victim%remote.example@local.example>', '554 5.7.1'],
    ['RCPT TO:<someone@[192.0.2.1]>', '554 5.7.1'],
  ])('authenticated %s → %s', async (line, expected) => {
    expect(await outcome(line, true)).toBe(expected);
  });

  it('refuses user@local@remote at the parser, before any lookup', () => {
    const parsed = parseCommand('RCPT TO:<user@local.example@remote.example>');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.code).toBe(501);
  });
});
