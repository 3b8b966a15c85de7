/** FCrDNS on its own, with the DNS answers given as a table (the integration test uses a DNS server). */
import { describe, expect, it } from 'vitest';
import { ClientNames, forwardConfirmedName, reverseName, type NameResolve } from './client-name';

function table(answers: Record<string, string[]>): NameResolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (name: string, rrtype: string) => {
    asked.push(`${rrtype} ${name}`);
    const answer = answers[`${rrtype} ${name}`];
    if (!answer) throw Object.assign(new Error('no record'), { code: 'ENOTFOUND' });
    return answer;
  };
  return Object.assign(resolve, { asked });
}

describe('reverseName (RFC 1035 §3.5, RFC 3596 §2.5)', () => {
  it('names the PTR record of an IPv4 and an IPv6 address', () => {
    expect(reverseName('192.0.2.10')).toBe('10.2.0.192.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    );
  });
});

describe('forwardConfirmedName', () => {
  it('takes the first PTR name whose addresses include the client, lower case, without the dot', async () => {
    const resolve = table({
      'PTR 10.2.0.192.in-addr.arpa': ['forged.example.', 'Mail.Example.ORG.'],
      'A forged.example': ['198.51.100.7'],
      'A mail.example.org': ['192.0.2.9', '192.0.2.10'],
    });
    expect(await forwardConfirmedName(resolve, '192.0.2.10')).toBe('mail.example.org');
  });

  it('IPv6 (AAAA, any spelling) and an IPv4-mapped client address', async () => {
    const v6 = table({
      [`PTR ${reverseName('2001:db8::1')}`]: ['six.example.'],
      'AAAA six.example': ['2001:0db8:0:0:0:0:0:0001'],
    });
    expect(await forwardConfirmedName(v6, '2001:db8::1')).toBe('six.example');
    const mapped = table({
      'PTR 10.2.0.192.in-addr.arpa': ['four.example'],
      'A four.example': ['192.0.2.10'],
    });
    expect(await forwardConfirmedName(mapped, '::ffff:192.0.2.10')).toBe('four.example');
  });

  it('none when nothing confirms, there is no PTR, or a name could not be a host name', async () => {
    expect(await forwardConfirmedName(table({}), '192.0.2.10')).toBeNull();
    const liar = table({
      'PTR 10.2.0.192.in-addr.arpa': ['bank.example'],
      'A bank.example': ['203.0.113.1'],
    });
    expect(await forwardConfirmedName(liar, '192.0.2.10')).toBeNull();
    const odd = table({ 'PTR 10.2.0.192.in-addr.arpa': ['x (y) [z]'], 'A x (y) [z]': ['192.0.2.10'] });
    expect(await forwardConfirmedName(odd, '192.0.2.10')).toBeNull();
  });

  it('checks at most maxNames PTR names: at the limit and just past it', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `${n}.example`);
    const answers: Record<string, string[]> = { 'PTR 10.2.0.192.in-addr.arpa': names };
    answers['A e.example'] = ['192.0.2.10']; // the 5th
    expect(await forwardConfirmedName(table(answers), '192.0.2.10', 5)).toBe('e.example');
    delete answers['A e.example'];
    answers['A f.example'] = ['192.0.2.10']; // the 6th: not looked at
    const resolve = table(answers);
    expect(await forwardConfirmedName(resolve, '192.0.2.10', 5)).toBeNull();
    expect(resolve.asked).not.toContain('A f.example');
  });
});

describe('ClientNames', () => {
  it('goes on without a name when DNS does not answer by the deadline', async () => {
    const silent: NameResolve = () => new Promise(() => undefined);
    const names = new ClientNames({ resolve: silent, deadlineMs: 20 });
    const session = { id: 's1', remoteAddress: '192.0.2.10' };
    names.start(session);
    expect(await names.name(session)).toBeNull();
    expect(names.known('s1')).toBeNull();
  });

  it('looks up once per session and forgets it at the end', async () => {
    const resolve = table({
      'PTR 10.2.0.192.in-addr.arpa': ['mail.example'],
      'A mail.example': ['192.0.2.10'],
    });
    const names = new ClientNames({ resolve });
    const session = { id: 's2', remoteAddress: '192.0.2.10' };
    names.start(session);
    names.start(session);
    expect(await names.name(session)).toBe('mail.example');
    expect(names.known('s2')).toBe('mail.example');
    expect(resolve.asked).toEqual(['PTR 10.2.0.192.in-addr.arpa', 'A mail.example']);
    names.forget('s2');
    expect(names.known('s2')).toBeNull();
  });
});
