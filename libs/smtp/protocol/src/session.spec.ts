import { describe, expect, it } from 'vitest';
import { parseCommand } from './command-parser';
import { SmtpSession } from './session';
import { cmd, FULL, run, type Step } from './session.testutil';

describe('SmtpSession: the normal flow', () => {
  it('goes through a whole transaction', () => {
    const s = run([
      ['EHLO client.example', 'ok', 'greeted'],
      ['MAIL FROM:<a@b.example> SIZE=100', 'ok', 'mail'],
      ['RCPT TO:<c@d.example>', 'ok', 'rcpt'],
      ['RCPT TO:<e@f.example> NOTIFY=NEVER', 'ok', 'rcpt'],
      ['DATA', 'ok', 'data'],
    ]);
    expect(s.transaction?.from?.raw).toBe('a@b.example');
    expect(s.transaction?.params.size).toBe(100);
    expect(s.transaction?.recipients.map((r) => r.address.raw)).toEqual(['c@d.example', 'e@f.example']);
    expect(s.transaction?.recipients[1]?.params.notify).toEqual(['NEVER']);
    expect(s.greeting).toEqual({ verb: 'EHLO', domain: 'client.example' });
    s.endTransaction();
    expect(s.state).toBe('greeted');
    expect(s.transaction).toBeNull();
    expect(s.apply(cmd('MAIL FROM:<>')).allowed).toBe(true);
  });

  it('runs BDAT chunks until LAST', () => {
    const s = run([
      ['EHLO client.example', 'ok'],
      ['MAIL FROM:<a@b.example> BODY=BINARYMIME', 'ok'],
      ['RCPT TO:<c@d.example>', 'ok'],
      ['BDAT 10', 'ok', 'bdat'],
      ['NOOP', 'ok', 'bdat'],
      ['BDAT 10', 'ok', 'bdat'],
      ['BDAT 0 LAST', 'ok', 'bdat'],
      ['BDAT 1', '503 5.5.1'],
    ]);
    expect(s.transaction?.body).toBe('bdat');
    expect(s.transaction?.lastChunkSeen).toBe(true);
    s.endTransaction();
    expect(s.state).toBe('greeted');
  });

  it('accepts HELO for plain SMTP', () => {
    run(
      [
        ['HELO client.example', 'ok', 'greeted'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<c@d.example>', 'ok'],
        ['DATA', 'ok', 'data'],
      ],
      {},
    );
  });

  it('QUIT closes, and nothing is allowed after it', () => {
    run([
      ['EHLO c.example', 'ok'],
      ['QUIT', 'ok', 'closed'],
      ['NOOP', '503 5.5.1'],
    ]);
  });
});

describe('SmtpSession: bad sequences (RFC 5321 §4.3.2: 503 5.5.1)', () => {
  it.each<[string, Step[]]>([
    ['MAIL before EHLO', [['MAIL FROM:<a@b.example>', '503 5.5.1']]],
    ['RCPT before EHLO', [['RCPT TO:<a@b.example>', '503 5.5.1']]],
    ['DATA before EHLO', [['DATA', '503 5.5.1']]],
    [
      'RCPT before MAIL',
      [
        ['EHLO c.example', 'ok'],
        ['RCPT TO:<a@b.example>', '503 5.5.1'],
      ],
    ],
    [
      'DATA before MAIL',
      [
        ['EHLO c.example', 'ok'],
        ['DATA', '503 5.5.1'],
      ],
    ],
    [
      'DATA before RCPT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['DATA', '503 5.5.1'],
      ],
    ],
    [
      'BDAT before RCPT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['BDAT 1', '503 5.5.1'],
      ],
    ],
    [
      'BDAT before MAIL',
      [
        ['EHLO c.example', 'ok'],
        ['BDAT 1 LAST', '503 5.5.1'],
      ],
    ],
    [
      'nested MAIL',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['MAIL FROM:<a@b.example>', '503 5.5.1', 'mail'],
      ],
    ],
    [
      'MAIL after RCPT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['MAIL FROM:<>', '503 5.5.1', 'rcpt'],
      ],
    ],
    [
      'DATA after BDAT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['BDAT 5', 'ok'],
        ['DATA', '503 5.5.1', 'bdat'],
      ],
    ],
    [
      'RCPT after BDAT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['BDAT 5', 'ok'],
        ['RCPT TO:<x@b.example>', '503 5.5.1'],
      ],
    ],
    [
      'MAIL during BDAT',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['BDAT 5', 'ok'],
        ['MAIL FROM:<>', '503 5.5.1'],
      ],
    ],
    [
      'DATA with BODY=BINARYMIME (RFC 3030 §3)',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example> BODY=BINARYMIME', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['DATA', '503 5.5.1', 'rcpt'],
      ],
    ],
    [
      'a command during DATA',
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['DATA', 'ok'],
        ['RSET', '503 5.5.1', 'data'],
      ],
    ],
  ])('%s', (_name, steps) => {
    run(steps);
  });
});

describe('SmtpSession: RSET and HELO/EHLO reset the transaction (RFC 5321 §4.1.4, §4.1.1.5)', () => {
  it.each(['RSET', 'EHLO other.example', 'HELO other.example'])('%s clears it', (reset) => {
    const s = run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example>', 'ok'],
      ['RCPT TO:<a@b.example>', 'ok'],
      [reset, 'ok', 'greeted'],
      ['RCPT TO:<a@b.example>', '503 5.5.1'],
      ['MAIL FROM:<a@b.example>', 'ok', 'mail'],
    ]);
    expect(s.transaction?.recipients).toEqual([]);
  });

  it('RSET before any greeting stays in connected', () => {
    run([
      ['RSET', 'ok', 'connected'],
      ['NOOP', 'ok'],
      ['VRFY x', 'ok'],
      ['HELP', 'ok'],
      ['MAIL FROM:<>', '503 5.5.1'],
    ]);
  });

  it('a refused command changes nothing', () => {
    const s = run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example> SIZE=5000', '552 5.3.4', 'greeted'],
    ]);
    expect(s.transaction).toBeNull();
  });

  it('check() never changes the state', () => {
    const s = new SmtpSession({ capabilities: FULL });
    expect(s.check(cmd('EHLO c.example')).allowed).toBe(true);
    expect(s.state).toBe('connected');
    expect(s.check(cmd('MAIL FROM:<>')).allowed).toBe(false);
  });
});

describe('SmtpSession: ESMTP only after EHLO', () => {
  it('after HELO, BDAT → 502 5.5.1', () => {
    run([
      ['HELO c.example', 'ok'],
      ['MAIL FROM:<a@b.example>', 'ok'],
      ['RCPT TO:<a@b.example>', 'ok'],
      ['BDAT 10 LAST', '502 5.5.1', 'rcpt'],
    ]);
  });

  it.each(['STARTTLS', 'AUTH PLAIN'])('after HELO, %s → 502 5.5.1', (line) => {
    run(
      [
        ['HELO c.example', 'ok'],
        [line, '502 5.5.1', 'greeted'],
      ],
      { capabilities: FULL, tls: line !== 'STARTTLS' },
    );
  });

  it.each(['SIZE=10', 'BODY=8BITMIME', 'SMTPUTF8', 'RET=FULL', 'REQUIRETLS'])(
    'after HELO, MAIL with %s → 555',
    (param) => {
      run([
        ['HELO c.example', 'ok'],
        [`MAIL FROM:<a@b.example> ${param}`, '555 5.5.4', 'greeted'],
      ]);
    },
  );

  it('gives NO_EXTENSIONS to the parser after HELO', () => {
    const s = run([['HELO c.example', 'ok']]);
    const r = parseCommand('MAIL FROM:<a@b.example> SIZE=10', s.parseOptions);
    expect(r.ok ? null : r.error.code).toBe(555);
  });

  it('refuses BDAT when CHUNKING is not offered, even after EHLO', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example>', 'ok'],
        ['BDAT 1 LAST', '502 5.5.1'],
      ],
      { capabilities: { ...FULL, chunking: false } },
    );
  });

  it('refuses parameters of extensions that are off', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example> REQUIRETLS', '555 5.5.4'],
      ],
      { capabilities: FULL },
    ); // no TLS yet
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example> SMTPUTF8', '555 5.5.4'],
      ],
      { capabilities: { ...FULL, smtpUtf8: false } },
    );
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example> ENVID=x', '555 5.5.4'],
      ],
      { capabilities: { ...FULL, dsn: false } },
    );
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<a@b.example> NOTIFY=NEVER', '555 5.5.4'],
      ],
      { capabilities: { ...FULL, dsn: false } },
    );
  });
});

describe('SmtpSession: limits', () => {
  it('refuses SIZE above the limit with 552 5.3.4 (RFC 1870 §6.1), accepts it at the limit', () => {
    run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example> SIZE=1000', 'ok'],
    ]);
    run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example> SIZE=1001', '552 5.3.4'],
    ]);
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example> SIZE=99999999', 'ok'],
      ],
      { capabilities: { ...FULL, maxMessageSize: 0 } },
    );
  });

  it('refuses the recipient after maxRecipients with 452 4.5.3', () => {
    run(
      [
        ['EHLO c.example', 'ok'],
        ['MAIL FROM:<a@b.example>', 'ok'],
        ['RCPT TO:<1@b.example>', 'ok'],
        ['RCPT TO:<2@b.example>', 'ok'],
        ['RCPT TO:<3@b.example>', '452 4.5.3'],
        ['DATA', 'ok'],
      ],
      { capabilities: FULL, maxRecipients: 2 },
    );
  });
});

describe('SmtpSession: parse options', () => {
  it('lets UTF-8 recipients through only in an SMTPUTF8 transaction', () => {
    const s = run([
      ['EHLO c.example', 'ok'],
      ['MAIL FROM:<a@b.example>', 'ok'],
    ]);
    expect(parseCommand('RCPT TO:<ü@b.example>', s.parseOptions).ok).toBe(false);
    s.apply(cmd('RSET'));
    s.apply(cmd('MAIL FROM:<a@b.example> SMTPUTF8'));
    expect(parseCommand('RCPT TO:<ü@b.example>', s.parseOptions).ok).toBe(true);
  });

  it('advertises what applies right now', () => {
    const s = new SmtpSession({ capabilities: FULL });
    expect(s.advertised.startTls).toBe(true);
    expect(s.advertised.auth).toEqual([]);
    s.apply(cmd('EHLO c.example'));
    s.apply(cmd('STARTTLS'));
    s.tlsStarted();
    expect(s.advertised.startTls).toBe(false);
    expect(s.advertised.auth).toEqual(['PLAIN', 'LOGIN']);
  });
});

describe('SmtpSession: extension sets', () => {
  it('are shared by sessions with the same capabilities, frozen, and follow TLS and AUTH', () => {
    const a = new SmtpSession({ capabilities: FULL });
    const b = new SmtpSession({ capabilities: FULL });
    expect(a.advertised).toBe(b.advertised);
    expect(Object.isFrozen(a.advertised)).toBe(true);
    expect(Object.isFrozen(a.advertised.auth)).toBe(true);
    const plain = a.advertised;
    a.tlsStarted();
    expect(a.advertised).not.toBe(plain);
    expect(a.advertised.startTls).toBe(false);
    expect(b.advertised).toBe(plain);
    // parseOptions is handed out again while nothing it depends on changes
    a.apply(cmd('EHLO client.example'));
    expect(a.parseOptions).toBe(a.parseOptions);
    expect(a.parseOptions.extensions).toBe(a.advertised);
  });
});
