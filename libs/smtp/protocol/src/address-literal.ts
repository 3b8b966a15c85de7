/**
 * Address literals of RFC 5321 §4.1.3: `[192.0.2.1]` and `[IPv6:2001:db8::1]`.
 *
 *   address-literal  = "[" ( IPv4-address-literal / IPv6-address-literal /
 *                            General-address-literal ) "]"
 *   IPv4-address-literal = Snum 3("."  Snum)
 *   IPv6-address-literal = "IPv6:" IPv6-addr
 *   Snum = 1*3DIGIT  ; representing a decimal integer value in the range 0 through 255
 *
 * General-address-literal (`tag:content`) is refused: no tag other than IPv6 is registered.
 */

const SNUM = /^\d{1,3}$/;
const HEX16 = /^[0-9A-Fa-f]{1,4}$/;

/** `192.0.2.1` (RFC 5321 §4.1.3 IPv4-address-literal, without brackets). */
export function isIPv4Literal(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => SNUM.test(p) && Number(p) <= 255);
}

function hexGroups(text: string): number | null {
  if (text === '') return 0;
  const parts = text.split(':');
  return parts.every((p) => HEX16.test(p)) ? parts.length : null;
}

/**
 * An IPv6-addr of RFC 5321 §4.1.3 (without the `IPv6:` tag):
 *   IPv6-full  = IPv6-hex 7(":" IPv6-hex)
 *   IPv6-comp  = [IPv6-hex *5(":" IPv6-hex)] "::" [IPv6-hex *5(":" IPv6-hex)]
 *                ; The "::" represents at least 2 16-bit groups of zeros; no more than 6 groups
 *   IPv6v4-full = IPv6-hex 5(":" IPv6-hex) ":" IPv4-address-literal
 *   IPv6v4-comp = [IPv6-hex *3(":" IPv6-hex)] "::" [IPv6-hex *3(":" IPv6-hex ":")] IPv4-address-literal
 *                ; no more than 4 groups in addition to the "::" and IPv4-address-literal
 */
export function isIPv6Address(text: string): boolean {
  let body = text;
  let v4Groups = 0;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    if (!isIPv4Literal(text.slice(lastColon + 1))) return false;
    v4Groups = 2;
    // keep the colon when it is part of "::" so the compressed form is still seen below
    body = text.endsWith('::', lastColon + 1) ? text.slice(0, lastColon + 1) : text.slice(0, lastColon);
  }
  const dbl = body.indexOf('::');
  if (dbl < 0) {
    const n = hexGroups(body);
    return n !== null && n + v4Groups === 8;
  }
  if (body.indexOf('::', dbl + 1) >= 0) return false;
  const left = hexGroups(body.slice(0, dbl));
  const right = hexGroups(body.slice(dbl + 2));
  if (left === null || right === null) return false;
  return left + right + v4Groups <= 6;
}

/**
 * The content of an address literal, brackets included: `[192.0.2.1]` or `[IPv6:...]`
 * (the tag is case-insensitive, as ABNF strings are).
 */
export function isAddressLiteral(text: string): boolean {
  if (text.length < 3 || text[0] !== '[' || text[text.length - 1] !== ']') return false;
  const inner = text.slice(1, -1);
  if (/^ipv6:/i.test(inner)) return isIPv6Address(inner.slice(5));
  return isIPv4Literal(inner);
}
