/**
 * The fake zone the resolver specs share: records for every case and the faults by name.
 * Test support only: not exported from the library's index.
 */
import type { Answer, OptAnswer } from 'dns-packet';
import type { MxResult } from '../mx-resolver';

export type Rr = Exclude<Answer, OptAnswer>;
export const mx = (name: string, preference: number, exchange: string, ttl = 300): Rr => ({
  type: 'MX',
  name,
  ttl,
  data: { preference, exchange },
});
export const a = (name: string, address: string, ttl = 300): Rr => ({ type: 'A', name, ttl, data: address });
export const aaaa = (name: string, address: string, ttl = 300): Rr => ({
  type: 'AAAA',
  name,
  ttl,
  data: address,
});
export const cname = (name: string, target: string, ttl = 300): Rr => ({
  type: 'CNAME',
  name,
  ttl,
  data: target,
});

export const ZONE: Rr[] = [
  mx('two.test', 10, 'a.two.test'),
  mx('two.test', 10, 'b.two.test'),
  mx('two.test', 20, 'c.two.test'),
  a('a.two.test', '192.0.2.1'),
  a('b.two.test', '192.0.2.2'),
  aaaa('c.two.test', '2001:db8::3'),
  mx('null.test', 0, '.'),
  mx('null-beside.test', 0, '.'),
  mx('null-beside.test', 10, 'a.two.test'),
  mx('broken.test', 10, 'broken-host.test'),
  mx('broken-some.test', 10, 'broken-host.test'),
  mx('broken-some.test', 20, 'b.two.test'),
  mx('ip.test', 10, '192.0.2.77'),
  mx('short.test', 10, 'short-host.test', 5),
  a('short-host.test', '192.0.2.5', 2),
  cname('www.alias.test', 'two.test'),
  mx('big.test', 10, 'big-host.test'),
  ...Array.from({ length: 40 }, (_, i) => a('big-host.test', `198.51.100.${i + 1}`)),
  mx('self.test', 0, 'self.test'),
  a('self.test', '192.0.2.99'),
  { type: 'TXT', name: 'txt-only.test', ttl: 300, data: 'v=spf1 -all' },
];
/** Faults by name for `startFakeDnsServer` (@mta/testing, which this non-spec file may not import). */
export const FAULTS: Record<string, 'servfail' | 'refused' | 'drop' | 'truncate'> = {
  'servfail.test': 'servfail',
  'refused.test': 'refused',
  'broken-host.test': 'servfail',
  'big-host.test': 'truncate',
};

/** The servers as the resolver's `servers` option. */
export const at = (...list: { host: string; port: number }[]) =>
  list.map((s) => ({ host: s.host, port: s.port }));

/** The exchanges in order, or the failure as is. */
export const exchanges = (result: MxResult) => (result.ok ? result.hosts.map((h) => h.exchange) : result);
