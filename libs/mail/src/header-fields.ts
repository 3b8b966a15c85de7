/**
 * Header fields out of a header block, each with its raw bytes (for byte-exact reproduction)
 * and its unfolded value.
 *
 * RFC 5322 §2.2:   header-field = field-name ":" unstructured-or-structured CRLF
 * RFC 5322 §2.2.3: a field may be folded by inserting CRLF before WSP; unfolding is "simply
 *                  removing any CRLF that is immediately followed by WSP".
 * RFC 5322 §4.5 (obs-optional): WSP between the field name and the colon is allowed on input.
 * RFC 6532 §3.2: field values may hold UTF-8; values are decoded as UTF-8 (the raw bytes stay).
 */

export interface HeaderField {
  /** The field name as written (`Message-ID`). */
  readonly name: string;
  /** The name lower-cased, for case-insensitive lookup (RFC 5322 §1.2.2). */
  readonly key: string;
  /** The value after the colon, unfolded, leading and trailing whitespace trimmed. */
  readonly value: string;
  /** The field's bytes exactly as received, with its folding and its line end(s). */
  readonly raw: Buffer;
}

const isWsp = (c: number | undefined): boolean => c === 0x20 || c === 0x09;

/** Remove the line break of a line: CRLF or a tolerated bare LF. */
function stripEol(line: Buffer): Buffer {
  let end = line.length;
  if (end > 0 && line[end - 1] === 0x0a) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return line.subarray(0, end);
}

/** Unfold (RFC 5322 §2.2.3) and decode one field's bytes (without the final line end). */
export function unfold(bytes: Buffer): string {
  return bytes.toString('utf8').replace(/\r?\n(?=[ \t])/g, '');
}

function makeField(raw: Buffer): HeaderField | undefined {
  const colon = raw.indexOf(0x3a);
  if (colon <= 0) return undefined;
  const name = raw
    .subarray(0, colon)
    .toString('latin1')
    .replace(/[ \t]+$/, '');
  if (name === '' || /[^\x21-\x7e]/.test(name)) return undefined;
  const value = unfold(stripEol(raw.subarray(colon + 1))).trim();
  return { name, key: name.toLowerCase(), value, raw };
}

/**
 * Split a header block (field lines only, as `HeaderSplitter` gives it) into fields. A
 * continuation line belongs to the field before it; lines that are not fields are skipped.
 */
export function parseHeaderFields(block: Buffer): HeaderField[] {
  const fields: HeaderField[] = [];
  let start = 0;
  while (start < block.length) {
    // A field runs to the end of the first line not followed by a continuation line.
    let end = start;
    for (;;) {
      const lf = block.indexOf(0x0a, end);
      end = lf < 0 ? block.length : lf + 1;
      if (end >= block.length || !isWsp(block[end])) break;
    }
    const field = makeField(block.subarray(start, end));
    if (field) fields.push(field);
    start = end;
  }
  return fields;
}
