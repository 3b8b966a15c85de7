/** At most this much of a message is read to find its header section. */
export const MAX_HEADER_BYTES = 256 * 1024;

/**
 * The header fields of a message (RFC 5322 §2.2): everything up to the first empty line,
 * folded lines joined (§2.2.3). Values are decoded as UTF-8 (RFC 6532); encoded-words are
 * left as they are.
 */
export function parseHeaders(head: Buffer): { name: string; value: string }[] {
  let end = head.indexOf('\r\n\r\n');
  if (end < 0) end = head.length;
  const text = head.subarray(0, end).toString('utf8');
  const fields: { name: string; value: string }[] = [];
  for (const line of text.split(/\r\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}
