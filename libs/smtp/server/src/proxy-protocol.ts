/**
 * PROXY protocol v1 (text) and v2 (binary) header parser, as specified by HAProxy
 * (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt). Pure: fed the first bytes of a
 * connection, it says "need more", "malformed" or gives the client address and header length.
 * Only used on listeners configured for it: a PROXY header is never trusted otherwise.
 */
import net from 'node:net';

export interface ProxyAddresses {
  readonly sourceAddress: string;
  readonly sourcePort: number;
  readonly destinationAddress: string;
  readonly destinationPort: number;
}

export type ProxyParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly reason: string }
  /** `addresses` null: LOCAL / UNKNOWN / unsupported family; use the socket's own addresses. */
  | { readonly status: 'ok'; readonly length: number; readonly addresses: ProxyAddresses | null };

/** §2.1: a v1 header is at most 107 octets including CRLF. */
export const PROXY_V1_MAX = 107;
/** §2.2: the v2 signature. */
export const PROXY_V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** We accept TLVs, but not a header larger than this. */
const V2_MAX_LENGTH = 4096;
const V1_PREFIX = Buffer.from('PROXY ');

const INCOMPLETE: ProxyParseResult = { status: 'incomplete' };
const invalid = (reason: string): ProxyParseResult => ({ status: 'invalid', reason });

/** Does `buf` (possibly short) start like `sig`? */
function startsLike(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.subarray(0, n).equals(sig.subarray(0, n));
}

const PORT = /^(0|[1-9][0-9]{0,4})$/;

function port(text: string): number | null {
  if (!PORT.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

function parseV1(buf: Buffer): ProxyParseResult {
  const lf = buf.indexOf(0x0a);
  if (lf < 0) return buf.length >= PROXY_V1_MAX ? invalid('v1 header too long') : INCOMPLETE;
  if (lf + 1 > PROXY_V1_MAX) return invalid('v1 header too long');
  if (lf === 0 || buf[lf - 1] !== 0x0d) return invalid('v1 header must end with CRLF');
  const line = buf.toString('latin1', 0, lf - 1);
  const parts = line.split(' ');
  // §2.1: "PROXY" SP ( "TCP4" | "TCP6" | "UNKNOWN" ) ...; with UNKNOWN the rest is ignored.
  if (parts[1] === 'UNKNOWN') return { status: 'ok', length: lf + 1, addresses: null };
  if (parts.length !== 6) return invalid('v1 header needs 6 fields');
  const [, proto, src, dst, sp, dp] = parts;
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return invalid('v1 protocol must be TCP4, TCP6 or UNKNOWN');
  if (net.isIP(src) !== family || net.isIP(dst) !== family)
    return invalid('v1 address does not match its family');
  const sourcePort = port(sp);
  const destinationPort = port(dp);
  if (sourcePort === null || destinationPort === null) return invalid('v1 bad port');
  return {
    status: 'ok',
    length: lf + 1,
    addresses: { sourceAddress: src, sourcePort, destinationAddress: dst, destinationPort },
  };
}

function ipv6(buf: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(at + i * 2).toString(16));
  // Normalise through the URL parser's canonical form (compresses zeros).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function parseV2(buf: Buffer): ProxyParseResult {
  if (buf.length < 16) return INCOMPLETE;
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return invalid('v2 version must be 2');
  const command = verCmd & 0x0f;
  if (command > 1) return invalid('v2 unknown command');
  const famProto = buf[13];
  const length = buf.readUInt16BE(14);
  if (length > V2_MAX_LENGTH) return invalid('v2 header too long');
  const total = 16 + length;
  if (buf.length < total) return INCOMPLETE;
  // §2.2: LOCAL (health checks by the proxy itself): use the real connection endpoints.
  if (command === 0) return { status: 'ok', length: total, addresses: null };
  const family = famProto >> 4;
  const transport = famProto & 0x0f;
  if (family === 0 && transport === 0) return { status: 'ok', length: total, addresses: null }; // UNSPEC
  if (transport !== 1) return invalid('v2 only STREAM transport is supported');
  if (family === 1) {
    if (length < 12) return invalid('v2 TCP4 address block too short');
    const ip = (at: number) => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
    return {
      status: 'ok',
      length: total,
      addresses: {
        sourceAddress: ip(16),
        destinationAddress: ip(20),
        sourcePort: buf.readUInt16BE(24),
        destinationPort: buf.readUInt16BE(26),
      },
    };
  }
  if (family === 2) {
    if (length < 36) return invalid('v2 TCP6 address block too short');
    return {
      status: 'ok',
      length: total,
      addresses: {
        sourceAddress: ipv6(buf, 16),
        destinationAddress: ipv6(buf, 32),
        sourcePort: buf.readUInt16BE(48),
        destinationPort: buf.readUInt16BE(50),
      },
    };
  }
  if (family === 3) return { status: 'ok', length: total, addresses: null }; // AF_UNIX: no IP to report
  return invalid('v2 unknown address family');
}

/** Parse the PROXY header at the start of `buf` (v1 or v2, detected by the signature). */
export function parseProxyHeader(buf: Buffer): ProxyParseResult {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, PROXY_V2_SIGNATURE)) {
    return buf.length < PROXY_V2_SIGNATURE.length ? INCOMPLETE : parseV2(buf);
  }
  if (startsLike(buf, V1_PREFIX)) return buf.length < V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  return invalid('not a PROXY protocol header');
}

/** Build a v1 header (for tests and tools). */
export function proxyV1Header(a: ProxyAddresses): Buffer {
  const fam = net.isIPv6(a.sourceAddress) ? 'TCP6' : 'TCP4';
  return Buffer.from(
    `PROXY ${fam} ${a.sourceAddress} ${a.destinationAddress} ${a.sourcePort} ${a.destinationPort}\r\n`,
    'latin1',
  );
}

function ipv6Bytes(text: string): Buffer {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** Build a v2 PROXY header with TCP4/TCP6 addresses and optional raw TLV bytes (for tests and tools). */
export function proxyV2Header(a: ProxyAddresses, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const v6 = net.isIPv6(a.sourceAddress);
  const addr = v6
    ? Buffer.concat([ipv6Bytes(a.sourceAddress), ipv6Bytes(a.destinationAddress), Buffer.alloc(4)])
    : Buffer.concat([
        Buffer.from(a.sourceAddress.split('.').map(Number)),
        Buffer.from(a.destinationAddress.split('.').map(Number)),
        Buffer.alloc(4),
      ]);
  addr.writeUInt16BE(a.sourcePort, addr.length - 4);
  addr.writeUInt16BE(a.destinationPort, addr.length - 2);
  const head = Buffer.alloc(4);
  head[0] = 0x21;
  head[1] = v6 ? 0x21 : 0x11;
  head.writeUInt16BE(addr.length + tlvs.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, addr, tlvs]);
}
