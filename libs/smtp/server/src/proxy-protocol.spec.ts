import { describe, expect, it } from 'vitest';
import { parseProxyHeader, proxyV1Header, proxyV2Header, PROXY_V2_SIGNATURE } from './proxy-protocol';

const v4 = {
  sourceAddress: '203.0.113.7',
  sourcePort: 51234,
  destinationAddress: '198.51.100.1',
  destinationPort: 25,
};
const v6 = {
  sourceAddress: '2001:db8::7',
  sourcePort: 40000,
  destinationAddress: '2001:db8::1',
  destinationPort: 587,
};

describe('parseProxyHeader', () => {
  it.each([
    ['v1 TCP4', proxyV1Header(v4), v4],
    ['v1 TCP6', proxyV1Header(v6), v6],
    ['v2 TCP4', proxyV2Header(v4), v4],
    ['v2 TCP6', proxyV2Header(v6), v6],
    ['v2 TCP4 with TLVs', proxyV2Header(v4, Buffer.from([0x04, 0x00, 0x02, 0x61, 0x62])), v4],
  ])('%s', (_name, header, addresses) => {
    const withRest = Buffer.concat([header, Buffer.from('EHLO x\r\n')]);
    expect(parseProxyHeader(withRest)).toEqual({ status: 'ok', length: header.length, addresses });
    // Any prefix is incomplete, never an error.
    for (let i = 1; i < header.length; i++)
      expect(parseProxyHeader(header.subarray(0, i)).status).toBe('incomplete');
  });

  it('v1 UNKNOWN and v2 LOCAL keep the socket addresses', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({
      status: 'ok',
      length: 15,
      addresses: null,
    });
    const local = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    expect(parseProxyHeader(local)).toEqual({ status: 'ok', length: 16, addresses: null });
  });

  it.each([
    ['not a header', 'EHLO x\r\n'],
    ['lowercase', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['bad family', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['v6 address in TCP4', 'PROXY TCP4 ::1 5.6.7.8 1 2\r\n'],
    ['bad address', 'PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n'],
    ['port too big', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['leading zero port', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'],
    ['missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['too long', 'PROXY TCP4 ' + '1'.repeat(120)],
  ])('v1 refuses %s', (_n, text) => {
    expect(parseProxyHeader(Buffer.from(text)).status).toBe('invalid');
  });

  it('v2 refuses bad versions, commands, transports and sizes', () => {
    const good = proxyV2Header(v4);
    const bad = (i: number, v: number) => {
      const b = Buffer.from(good);
      b[i] = v;
      return parseProxyHeader(b).status;
    };
    expect(bad(12, 0x11)).toBe('invalid'); // version 1
    expect(bad(12, 0x22)).toBe('invalid'); // command 2
    expect(bad(13, 0x12)).toBe('invalid'); // DGRAM
    expect(bad(13, 0x41)).toBe('invalid'); // family 4
    const short = Buffer.from(good);
    short.writeUInt16BE(4, 14);
    expect(parseProxyHeader(short).status).toBe('invalid');
    const huge = Buffer.from(good);
    huge.writeUInt16BE(60000, 14);
    expect(parseProxyHeader(huge).status).toBe('invalid');
  });
});
