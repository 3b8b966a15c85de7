/**
 * The unit a per-client limit counts: an IPv4 address, or the /64 an IPv6 address is in.
 *
 * One IPv6 host is given a whole /64 as a rule (RFC 4291 §2.5.4: interface identifiers are
 * 64 bits; RFC 6177: a /64 per subnet and more per site), and it may send from any address in
 * it. Counting full IPv6 addresses would let one host open as many connections, or make as
 * many password guesses, as it likes.
 */
import net from 'node:net';

export function clientNetwork(address: string): string {
  if (net.isIPv6(address)) {
    const groups = expandIpv6(address);
    if (groups) return `${groups.slice(0, 4).join(':')}::/64`;
  }
  return address;
}

/** The eight 16-bit groups of an IPv6 address, lower-case hex without leading zeros; null if malformed. */
function expandIpv6(address: string): string[] | null {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  // A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.map((g) => parseInt(g, 16).toString(16));
}
