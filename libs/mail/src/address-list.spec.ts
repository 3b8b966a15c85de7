import { describe, expect, it } from 'vitest';
import { mailboxDomains, parseMailboxList, parseMailboxListStrict, type Mailbox } from './address-list';

type Row = [string, Partial<Mailbox>[]];

// Many rows are the examples of RFC 5322 Appendix A.
const rows: Row[] = [
  ['john@example.com', [{ address: 'john@example.com', domain: 'example.com' }]],
  ['John Doe <jdoe@Machine.Example>', [{ name: 'John Doe', address: 'jdoe@machine.example', local: 'jdoe' }]],
  [
    '"Joe Q. Public" <john.q.public@example.com>',
    [{ name: 'Joe Q. Public', address: 'john.q.public@example.com' }],
  ],
  [
    'Joe Q. Public <john.q.public@example.com>',
    [{ name: 'Joe Q. Public', address: 'john.q.public@example.com' }],
  ],
  ['<boss@nil.test>', [{ address: 'boss@nil.test', name: undefined }]],
  [
    'Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>',
    [
      { name: 'Mary Smith', address: 'mary@x.test' },
      { address: 'jdoe@example.org' },
      { name: 'Who?', address: 'one@y.test' },
    ],
  ],
  [
    '<boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>',
    [{ address: 'boss@nil.test' }, { name: 'Giant; "Big" Box', address: 'sysservices@example.net' }],
  ],
  [
    'A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;',
    [
      { group: 'A Group', name: 'Ed Jones', address: 'c@a.test' },
      { group: 'A Group', address: 'joe@where.test' },
      { group: 'A Group', name: 'John', address: 'jdoe@one.test' },
    ],
  ],
  ['Undisclosed recipients:;', []],
  ['Undisclosed recipients:;, after@x.test', [{ address: 'after@x.test', group: undefined }]],
  [
    'Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>',
    [{ name: 'Pete', address: 'pete@silly.test', local: 'pete' }],
  ],
  ['jdoe@example.org (John Doe)', [{ name: 'John Doe', address: 'jdoe@example.org' }]],
  [
    '"john doe"@EXAMPLE.org',
    [{ local: '"john doe"', domain: 'example.org', address: '"john doe"@example.org' }],
  ],
  ['John Doe <jdoe@machine(comment).  example>', [{ address: 'jdoe@machine.example' }]],
  ['<@route.test,@other.test:user@Dest.Test>', [{ address: 'user@dest.test' }]],
  ['user@[192.0.2.1]', [{ domain: '[192.0.2.1]' }]],
  ['=?UTF-8?Q?Andr=C3=A9?= <andre@Example.FR>', [{ name: 'André', domain: 'example.fr' }]],
  ['=?ISO-8859-1?B?Sm/rbA==?= <joel@example.com>', [{ name: 'Joël' }]],
  ['日本語 <用户@例子.广告>', [{ name: '日本語', local: '用户', domain: '例子.广告' }]],
  ['Alice <alice@example.com>, ', [{ address: 'alice@example.com' }]],
  ['no-at-sign', []],
  ['Broken <>', []],
  ['@example.com', []],
  ['alice@', []],
  ['"unterminated <a@b.test>', []],
  ['alice@example.com <bob@example.com>', [{ name: 'alice@example.com', address: 'bob@example.com' }]],
];

describe('parseMailboxList', () => {
  it.each(rows)('%s', (input, expected) => {
    const got = parseMailboxList(input);
    expect(got).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      for (const [k, v] of Object.entries(e)) expect(got[i][k as keyof Mailbox], k).toBe(v);
    });
  });

  it('never throws on junk', () => {
    for (const junk of ['(', ')', '<', '>', '"', '[', '::;;,,', '<<a@b>>', '\\', '(((a@b']) {
      expect(() => parseMailboxList(junk)).not.toThrow();
    }
  });

  it('mailboxDomains gives the distinct lower-cased domains', () => {
    expect(mailboxDomains(parseMailboxList('a@X.test, b@x.TEST, c@y.test'))).toEqual(['x.test', 'y.test']);
  });
});

describe('parseMailboxListStrict (RFC 5322 §3.4, §3.6.2): what submission vouches for', () => {
  it.each([
    ['alice@victim.test', ['alice@victim.test']],
    ['Alice <alice@victim.test>', ['alice@victim.test']],
    ['"Alice, A." <alice@victim.test> (work)', ['alice@victim.test']],
    ['alice@victim.test (Alice)', ['alice@victim.test']],
    ['a@x.test, B <b@y.test>', ['a@x.test', 'b@y.test']],
    ['a@x.test, , b@y.test', ['a@x.test', 'b@y.test']],
    ['<@relay.test:a@x.test>', ['a@x.test']],
    ['=?utf-8?q?J=C3=B6rg?= <jorg@x.test>', ['jorg@x.test']],
  ])('takes %j', (input, addresses) => {
    const r = parseMailboxListStrict(input);
    expect(r.ok && r.mailboxes.map((m) => m.address)).toEqual(addresses);
  });

  it.each([
    ['<alice@victim.test> ceo@victim.test', 'text after the address'],
    ['Alice <alice@victim.test> x', 'text after the address'],
    ['alice@victim.test <ceo@victim.test>', 'a display name holds an address or a special character'],
    ['alice@victim.test ceo@victim.test', 'not an address'],
    ['alice@victim.test (c) ceo@victim.test', 'not an address'],
    ['Alice <alice@victim.test', 'an unterminated "<"'],
    ['"unterminated <a@b.test>', 'an unterminated quoted string'],
    ['Team: a@x.test, b@x.test;', 'a group is not a mailbox'],
    ['alice', 'not an address'],
    ['', 'no mailbox'],
    ['<a,b@x.test>', 'not an address'],
  ])('refuses %j: %s', (input, reason) => {
    expect(parseMailboxListStrict(input)).toEqual({ ok: false, reason });
  });

  it('the lenient parser still reads what mx receives, garbage and all', () => {
    expect(parseMailboxList('<alice@victim.test> ceo@victim.test').map((m) => m.address)).toEqual([
      'alice@victim.test',
    ]);
    expect(parseMailboxList('Team: a@x.test;').map((m) => m.address)).toEqual(['a@x.test']);
  });
});
