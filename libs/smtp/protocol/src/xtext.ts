/**
 * xtext of RFC 3461 §4 (used by ENVID, ORCPT and the AUTH= parameter of RFC 4954 §5):
 *
 *   xtext   = *( xchar / hexchar )
 *   xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except for "+" and "="
 *   hexchar = ASCII "+" immediately followed by two upper case hexadecimal digits
 */

const HEX = '0123456789ABCDEF';

function isUpperHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46);
}

/** Decode xtext; returns null when the text is not valid xtext. */
export function decodeXtext(text: string): string | null {
  let out = '';
  let bytes: number[] | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) {
      const h = text.charCodeAt(i + 1);
      const l = text.charCodeAt(i + 2);
      if (!isUpperHex(h) || !isUpperHex(l)) return null;
      (bytes ??= []).push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
      continue;
    }
    if (c < 33 || c > 126 || c === 0x3d) return null;
    if (bytes) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = null;
    }
    out += text[i];
  }
  if (bytes) out += Buffer.from(bytes).toString('utf8');
  return out;
}

/** Encode a string (ASCII expected) as xtext: `+`, `=` and anything outside 33..126 as `+XX`. */
export function encodeXtext(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte >= 33 && byte <= 126 && byte !== 0x2b && byte !== 0x3d) out += String.fromCharCode(byte);
    else out += `+${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}
