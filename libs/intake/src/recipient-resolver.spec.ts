import { Srs } from '@mta/mail';
import { parseCommand, SmtpError, type RcptCommand } from '@mta/smtp-protocol';
import { describe, expect, it } from 'vitest';
import type { Directory, Mailbox } from './directory';
import { RecipientResolver } from './recipient-resolver';

/** Aliases of the unit tests; `chainN` is N aliases deep before reaching alice. */
const aliases: Record<string, string[]> = {
  'sales@local.example': ['Alice@local.example', 'bob@local.example', 'Friend@Remote.example'],
  'team@local.example': ['sales@local.example', 'alice@local.example', 'carol@relay.example'],
  'ping@local.example': ['pong@local.example'],
  'pong@local.example': ['alice@local.example', 'ping@local.example'],
  'self@local.example': ['self@local.example'],
  'dead@local.example': ['nobody@local.example', 'disabled@local.example'],
  'three@local.example': ['a@remote.example', 'b@remote.example', 'c@remote.example'],
  ...Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [
      `chain${i + 1}@local.example`,
      [i === 0 ? 'alice@local.example' : `chain${i}@local.example`],
    ]),
  ),
};

const directory: Directory = {
  async domain(name) {
    if (name === 'local.example') return { type: 'local', acceptAll: false, dmarcEnforce: true };
    if (name === 'catchall.example') return { type: 'local', acceptAll: true, dmarcEnforce: false };
    if (name === 'relay.example') return { type: 'relay', acceptAll: false, dmarcEnforce: true };
    return null;
  },
  async mailbox(address): Promise<Mailbox | null> {
    if (['alice@local.example', 'bob@local.example'].includes(address)) return { kind: 'account' };
    const targets = aliases[address];
    return targets ? { kind: 'alias', targets } : null;
  },
};
const DAY = 86_400_000;
const srs = (days = 20_000) =>
  new Srs({ secret: 'sixteen+ chars!!', domain: 'srs.example', now: () => days * DAY });
const resolver = new RecipientResolver(directory, {
  postmasterDomain: 'local.example',
  maxAliasDepth: 10,
  maxRecipients: 2,
  srs: srs(),
});

function rcpt(line: string): RcptCommand {
  const parsed = parseCommand(line);
  if (!parsed.ok || parsed.command.verb !== 'RCPT') throw new Error(`not a RCPT: ${line}`);
  return parsed.command;
}

async function outcome(line: string, authenticated = false): Promise<string> {
  try {
    const resolved = await resolver.resolve(rcpt(line).to, { authenticated });
    return resolved.map((r) => `${r.route} ${r.address}`).join(', ');
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
    ['RCPT TO:<nobody@local.example>', '550 5.1.1'],
    // The least quoting (RFC 5321 §4.1.2): one mailbox, one stored form.
    ['RCPT TO:<"alice"@local.example>', 'local alice@local.example'],
    ['RCPT TO:<"al\\ice"@local.example>', 'local alice@local.example'],
    ['RCPT TO:<"any one"@catchall.example>', 'local "any one"@catchall.example'],
    ['RCPT TO:<"any..one"@catchall.example>', 'local "any..one"@catchall.example'],
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

describe('RecipientResolver: aliases', () => {
  const big = new RecipientResolver(directory, {
    postmasterDomain: 'local.example',
    maxAliasDepth: 10,
    maxRecipients: 100,
  });
  const expand = async (address: string, r = big) => {
    try {
      const resolved = await r.resolve(rcpt(`RCPT TO:<${address}>`).to, { authenticated: false });
      return resolved.map((x) => `${x.route} ${x.address} via ${x.via}`);
    } catch (error) {
      if (error instanceof SmtpError) return `${error.code} ${error.enhanced} ${error.message}`;
      throw error;
    }
  };

  it('expands to local accounts (any case) and forwards to outside addresses, keeping their case', async () => {
    expect(await expand('Sales@LOCAL.example')).toEqual([
      'local alice@local.example via Sales@local.example',
      'local bob@local.example via Sales@local.example',
      'remote Friend@remote.example via Sales@local.example',
    ]);
  });

  it('expands aliases of aliases, each recipient once, relay domains as relay', async () => {
    expect(await expand('team@local.example')).toEqual([
      'local alice@local.example via team@local.example',
      'local bob@local.example via team@local.example',
      'remote Friend@remote.example via team@local.example',
      'relay carol@relay.example via team@local.example',
    ]);
  });

  it('refuses a loop with 550 5.4.6 naming the path, also an alias that targets itself', async () => {
    expect(await expand('ping@local.example')).toMatch(
      /^550 5\.4\.6 .*alias loop \(ping@local\.example -> pong@local\.example -> ping@local\.example\)/,
    );
    expect(await expand('self@local.example')).toMatch(/^550 5\.4\.6 .*alias loop/);
  });

  it('follows ALIAS_MAX_DEPTH aliases and refuses one more with 550 5.4.6', async () => {
    expect(await expand('chain10@local.example')).toEqual([
      'local alice@local.example via chain10@local.example',
    ]);
    expect(await expand('chain11@local.example')).toMatch(/^550 5\.4\.6 .*nested deeper than 10 aliases/);
  });

  it('treats an alias that leads nowhere as an unknown user (550 5.1.1)', async () => {
    expect(await expand('dead@local.example')).toMatch(/^550 5\.1\.1 /);
  });

  it('refuses an alias that alone expands past the recipient limit (550 5.5.3), and takes one at it', async () => {
    expect(await expand('sales@local.example', resolver)).toMatch(/^550 5\.5\.3 .*more than 2 recipients/);
    const atLimit = new RecipientResolver(directory, { postmasterDomain: 'local.example', maxRecipients: 3 });
    expect(await expand('three@local.example', atLimit)).toHaveLength(3);
  });
});

describe('RecipientResolver: SRS addresses', () => {
  const back = async (address: string, at = srs()) => {
    const r = new RecipientResolver(directory, { postmasterDomain: 'local.example', srs: at });
    try {
      const resolved = await r.resolve(rcpt(`RCPT TO:<${address}>`).to, { authenticated: false });
      return resolved.map((x) => `${x.route} ${x.address} via ${x.via}`);
    } catch (error) {
      if (error instanceof SmtpError) return `${error.code} ${error.enhanced} ${error.message}`;
      throw error;
    }
  };

  it('routes a bounce to our SRS address back to the original sender, remote or local', async () => {
    const remote = srs().forward('Someone@Origin.example');
    expect(await back(remote)).toEqual([`remote Someone@origin.example via ${remote}`]);
    const local = srs().forward('alice@local.example');
    expect(await back(local)).toEqual([`local alice@local.example via ${local}`]);
  });

  it('refuses forged (550 5.1.1) and expired (550 5.1.1) SRS addresses', async () => {
    const address = srs().forward('someone@origin.example');
    expect(await back(address.replace('someone', 'victim'))).toMatch(/^550 5\.1\.1 .*invalid SRS signature/);
    expect(await back(address, srs(20_000 + 22))).toMatch(/^550 5\.1\.1 .*expired SRS address/);
    expect(await back(address, srs(20_000 + 21))).toEqual([`remote someone@origin.example via ${address}`]);
  });
});
