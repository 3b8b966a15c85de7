import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may not go unless WEBHOOK_ALLOW_PRIVATE=true: an administrator could otherwise
 * aim the MTA at internal services (SSRF). Special-purpose ranges of the IANA registries
 * (RFC 6890 and its updates): loopback, private (RFC 1918, RFC 4193), shared (RFC 6598),
 * link-local (RFC 3927, RFC 4291 §2.5.6), unspecified, multicast, reserved, benchmarking.
 */
const V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];
const V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::', 48, 'local-use IPv4/IPv6 translation (RFC 8215)'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['fc00::', 7, 'unique local (RFC 4193)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const lists = new Map<string, BlockList>();
for (const [family, ranges] of [['ipv4', V4] as const, ['ipv6', V6] as const]) {
  for (const [net, prefix, reason] of ranges) {
    const list = lists.get(reason) ?? new BlockList();
    list.addSubnet(net, prefix, family);
    lists.set(reason, list);
  }
}

/** The 16 bytes of an IPv6 address (any textual form, RFC 4291 §2.2). */
function ipv6Bytes(address: string): Buffer {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail = ''] = text.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = text.includes('::') ? groups(tail) : [];
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}

/** The IPv4 address inside an IPv4-mapped (::ffff:0:0/96) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address.toLowerCase().split('%')[0]);
  const zeros = b.subarray(0, 10).every((x) => x === 0);
  const mapped = zeros && b[10] === 0xff && b[11] === 0xff;
  const nat64 = b.readUInt32BE(0) === 0x0064ff9b && b.subarray(4, 12).every((x) => x === 0);
  return mapped || nat64 ? [...b.subarray(12)].join('.') : undefined;
}

/** Why this IP address is not a place for webhooks, or null when it is a public address. */
export function forbiddenReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) {
      const reason = forbiddenReason(v4);
      return reason && `IPv4 inside IPv6, ${reason}`;
    }
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const plain = address.split('%')[0];
  for (const [reason, list] of lists) if (list.check(plain, type)) return reason;
  if (family === 4 && plain === '255.255.255.255') return 'broadcast';
  return null;
}

/** The host of a URL without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a webhook URL as given (creation, update): http(s) only, no credentials in it, and an
 * IP literal host must be public unless `allowPrivate`. Names are checked when they are
 * resolved, at each connection (see http-post.ts). Returns the URL or an error text.
 */
export function checkWebhookUrl(text: string, allowPrivate: boolean): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'only http:// and https:// URLs are allowed';
  if (url.username || url.password) return 'the URL may not carry a user name or password';
  const host = hostOf(url);
  if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost')))
    return `${host} is a loopback name; set WEBHOOK_ALLOW_PRIVATE=true to allow it`;
  const reason = isIP(host) && !allowPrivate ? forbiddenReason(host) : null;
  if (reason) return `${host} is a ${reason} address; set WEBHOOK_ALLOW_PRIVATE=true to allow it`;
  return url;
}
