import { describe, expect, it } from 'vitest';
import {
  domainLower,
  formatPath,
  isDomain,
  localPartValue,
  parseMailbox,
  parsePath,
  type AddressFailure,
} from './address';
import { isAddressLiteral, isIPv4Literal, isIPv6Address } from './address-literal';

const a63 = 'a'.repeat(63);

describe('parseMailbox: valid (RFC 5321 §4.1.2)', () => {
  it.each([
    // [mailbox, local, domain, utf8]
    ['user@example.com', 'user', 'example.com', false],
    ['first.last@example.com', 'first.last', 'example.com', false],
    ["o'brien+tag@sub.example.co.uk", "o'brien+tag", 'sub.example.co.uk', false],
    ["!#$%&'*+-/=?^_`{|}~@example.com", "!#$%&'*+-/=?^_`{|}~", 'example.com', false],
    ['user@localhost', 'user', 'localhost', false],
    ['user@a-b.c0', 'user', 'a-b.c0', false],
    ['user@123.example', 'user', '123.example', false],
    ['USER@EXAMPLE.COM', 'USER', 'EXAMPLE.COM', false],
    ['"john doe"@example.com', '"john doe"', 'example.com', false],
    ['"a@b"@example.com', '"a@b"', 'example.com', false],
    ['"a\\"b"@example.com', '"a\\"b"', 'example.com', false],
    ['"a\\\\b"@example.com', '"a\\\\b"', 'example.com', false],
    ['""@example.com', '""', 'example.com', false],
    ['"a>b"@example.com', '"a>b"', 'example.com', false],
    ['user@[192.0.2.1]', 'user', '[192.0.2.1]', false],
    ['user@[IPv6:2001:db8::1]', 'user', '[IPv6:2001:db8::1]', false],
    ['user@[ipv6:::1]', 'user', '[ipv6:::1]', false],
    [`${'l'.repeat(64)}@example.com`, 'l'.repeat(64), 'example.com', false],
    [`u@${a63}.com`, 'u', `${a63}.com`, false],
    ['用户@例子.广告', '用户', '例子.广告', true],
    ['josé@exämple.com', 'josé', 'exämple.com', true],
    ['"ünï code"@example.com', '"ünï code"', 'example.com', true],
    ['user@xn--bcher-kva.example', 'user', 'xn--bcher-kva.example', false],
  ] as const)('%s', (text, local, domain, utf8) => {
    const r = parseMailbox(text, utf8);
    expect(r).toEqual({ ok: true, address: { local, domain, raw: text } });
  });
});

describe('parseMailbox: invalid', () => {
  it.each([
    // [mailbox, failure, utf8]
    ['user', 'syntax', false],
    ['@example.com', 'syntax', false],
    ['user@', 'syntax', false],
    ['.user@example.com', 'syntax', false],
    ['user.@example.com', 'syntax', false],
    ['us..er@example.com', 'syntax', false],
    ['us er@example.com', 'syntax', false],
    ['us(er)@example.com', 'syntax', false],
    ['us,er@example.com', 'syntax', false],
    ['user@exa mple.com', 'syntax', false],
    ['user@example..com', 'syntax', false],
    ['user@.example.com', 'syntax', false],
    ['user@example.com.', 'syntax', false],
    ['user@-example.com', 'syntax', false],
    ['user@example-.com', 'syntax', false],
    ['user@exa_mple.com', 'syntax', false],
    ['user@a@b.com', 'syntax', false],
    ['"unterminated@example.com', 'syntax', false],
    ['"a"b@example.com', 'syntax', false],
    ['"tab\there"@example.com', 'syntax', false],
    ['"bad\\\u0001pair"@example.com', 'syntax', false],
    [`u@${'a'.repeat(64)}.com`, 'syntax', false], // label > 63 octets
    [`${'l'.repeat(65)}@example.com`, 'too-long', false],
    [`u@${Array(5).fill(a63).join('.')}`, 'too-long', false], // 319 octets domain
    ['user@[192.0.2.256]', 'syntax', false],
    ['user@[192.0.2]', 'syntax', false],
    ['user@[IPv6:2001:db8::g]', 'syntax', false],
    ['user@[foo:bar]', 'syntax', false],
    ['user@[]', 'syntax', false],
    ['user@192.0.2.1]', 'syntax', false],
    ['josé@example.com', 'non-ascii', false],
    ['user@exämple.com', 'non-ascii', false],
    ['user@exa mple.com', 'syntax', true],
    ['用户@例子..广告', 'syntax', true],
    ['us\u00a0er@example.com', 'non-ascii', false],
    ['user@ex\u2028ample.com', 'syntax', true], // a line separator is no letter
  ] as const)('%s → %s', (text, failure, utf8) => {
    const r = parseMailbox(text, utf8);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.failure).toBe(failure satisfies AddressFailure);
  });

  it('counts the local part limit in octets, not characters', () => {
    expect(parseMailbox(`${'é'.repeat(32)}@example.com`, true).ok).toBe(true); // 64 octets
    const r = parseMailbox(`${'é'.repeat(33)}@example.com`, true); // 66 octets, 33 characters
    expect(r.ok ? null : r.failure).toBe('too-long');
  });

  it('accepts the domain at exactly 255 octets and refuses 256', () => {
    const d255 = [a63, a63, a63, 'a'.repeat(63)].join('.'); // 4*63+3 = 255
    expect(d255.length).toBe(255);
    expect(parseMailbox(`u@${d255}`, false).ok).toBe(true);
    const r = parseMailbox(`u@${d255}a`, false);
    expect(r.ok).toBe(false);
  });
});

describe('parsePath (RFC 5321 §4.1.1.2, §4.1.1.3)', () => {
  it('accepts the null reverse-path for MAIL only', () => {
    expect(parsePath('<>', { kind: 'reverse', utf8: false })).toEqual({
      ok: true,
      address: null,
      postmaster: false,
    });
    expect(parsePath('<>', { kind: 'forward', utf8: false }).ok).toBe(false);
  });

  it.each(['<postmaster>', '<Postmaster>', '<POSTMASTER>', '<PoStMaStEr>'])(
    'accepts %s for RCPT only',
    (p) => {
      const r = parsePath(p, { kind: 'forward', utf8: false });
      expect(r).toEqual({
        ok: true,
        address: { local: p.slice(1, -1), domain: '', raw: p.slice(1, -1) },
        postmaster: true,
      });
      expect(parsePath(p, { kind: 'reverse', utf8: false }).ok).toBe(false);
    },
  );

  it('flags postmaster@domain', () => {
    const r = parsePath('<Postmaster@Example.org>', { kind: 'forward', utf8: false });
    expect(r.ok && r.postmaster).toBe(true);
    const s = parsePath('<postmaster2@example.org>', { kind: 'forward', utf8: false });
    expect(s.ok && s.postmaster).toBe(false);
  });

  it.each([
    ['<@a.example,@b.example:user@c.example>', 'user@c.example'],
    ['<@a.example:user@c.example>', 'user@c.example'],
    ['<@[192.0.2.1],@b.example:user@c.example>', 'user@c.example'],
    ['<@[IPv6:::1]:user@c.example>', 'user@c.example'],
  ])('accepts and drops the source route in %s', (p, raw) => {
    for (const kind of ['reverse', 'forward'] as const) {
      const r = parsePath(p, { kind, utf8: false });
      expect(r.ok && r.address?.raw).toBe(raw);
    }
  });

  it.each([
    'user@example.com',
    '<user@example.com',
    'user@example.com>',
    '<@a.example user@c.example>',
    '<@a.example,user@c.example>',
    '<@:user@c.example>',
    '<@a..example:user@c.example>',
    '<@a.example,:user@c.example>',
    '<@[1.2.3:user@c.example>',
    '<user>',
    '< user@example.com>',
  ])('refuses %s', (p) => {
    expect(parsePath(p, { kind: 'forward', utf8: false }).ok).toBe(false);
  });

  it('limits the path to 256 octets including the brackets (§4.5.3.1.3)', () => {
    const local = 'l'.repeat(64);
    const domain = (n: number): string => {
      const labels: string[] = [];
      let left = n;
      while (left > 0) {
        const len = Math.min(63, left === 64 ? 62 : left);
        labels.push('d'.repeat(len));
        left -= len + 1;
      }
      return labels.join('.');
    };
    const d = domain(189); // 64 + 1 + 189 + 2 = 256
    expect(`<${local}@${d}>`.length).toBe(256);
    expect(parsePath(`<${local}@${d}>`, { kind: 'forward', utf8: false }).ok).toBe(true);
    const d2 = `${d}x`;
    const r = parsePath(`<${local}@${d2}>`, { kind: 'forward', utf8: false });
    expect(r.ok ? null : r.failure).toBe('too-long');
  });

  it('reports non-ASCII without SMTPUTF8 and accepts it with it (RFC 6531 §3.3)', () => {
    const r = parsePath('<δοκιμή@παράδειγμα.δοκιμή>', { kind: 'forward', utf8: false });
    expect(r.ok ? null : r.failure).toBe('non-ascii');
    expect(parsePath('<δοκιμή@παράδειγμα.δοκιμή>', { kind: 'forward', utf8: true }).ok).toBe(true);
  });
});

describe('address helpers', () => {
  it('lower-cases the domain only', () => {
    const r = parseMailbox('John.Doe@Example.ORG', false);
    if (!r.ok) throw new Error('expected ok');
    expect(domainLower(r.address)).toBe('example.org');
    expect(r.address.local).toBe('John.Doe');
    expect(domainLower({ domain: 'ÉXAMPLE.org' })).toBe('éxample.org');
  });

  it('unquotes local parts', () => {
    expect(localPartValue('"john \\"jd\\" doe"')).toBe('john "jd" doe');
    expect(localPartValue('plain')).toBe('plain');
  });

  it('formats paths', () => {
    expect(formatPath(null)).toBe('<>');
    expect(formatPath({ local: 'a', domain: 'b.c', raw: 'a@b.c' })).toBe('<a@b.c>');
  });

  it('checks domains', () => {
    expect(isDomain('example.com')).toBe(true);
    expect(isDomain('exämple.com')).toBe(false);
    expect(isDomain('exämple.com', true)).toBe(true);
    expect(isDomain('')).toBe(false);
  });
});

describe('address literals (RFC 5321 §4.1.3)', () => {
  it.each([
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['192.0.2.1', true],
    ['010.0.0.1', true],
    ['256.0.0.1', false],
    ['1.2.3', false],
    ['1.2.3.4.5', false],
    ['1.2.3.', false],
    ['a.b.c.d', false],
    ['1234.1.1.1', false],
    ['', false],
  ])('IPv4 %s → %s', (text, ok) => {
    expect(isIPv4Literal(text)).toBe(ok);
  });

  it.each([
    ['2001:db8:0:0:0:0:0:1', true],
    ['2001:db8::1', true],
    ['::1', true],
    ['::', true],
    ['1::', true],
    ['1:2:3:4:5:6::', true],
    ['::1:2:3:4:5:6', true],
    ['1:2:3:4:5:6:7::', false], // "::" stands for at least 2 groups (RFC 5321)
    ['1:2:3:4:5:6:7:8:9', false],
    ['1:2:3:4:5:6:7', false],
    ['1::2::3', false],
    ['1:::2', false],
    [':1:2:3:4:5:6:7', false],
    ['12345::1', false],
    ['g::1', false],
    ['::ffff:192.0.2.1', true],
    ['1:2:3:4:5:6:192.0.2.1', true],
    ['1:2:3:4::192.0.2.1', true],
    ['1:2:3:4:5::192.0.2.1', false],
    ['::192.0.2.1', true],
    ['1:2:3:4:5:192.0.2.1', false],
    ['::ffff:192.0.2.256', false],
    ['::ffff:192.0.2', false],
  ])('IPv6 %s → %s', (text, ok) => {
    expect(isIPv6Address(text)).toBe(ok);
  });

  it.each([
    ['[192.0.2.1]', true],
    ['[IPv6:::1]', true],
    ['[ipv6:::1]', true],
    ['[IPv6:192.0.2.1]', false],
    ['[::1]', false],
    ['[x-tag:content]', false],
    ['192.0.2.1', false],
    ['[192.0.2.1', false],
  ])('literal %s → %s', (text, ok) => {
    expect(isAddressLiteral(text)).toBe(ok);
  });
});
