/**
 * Writing header fields: folding (RFC 5322 §2.2.3: a CRLF may be inserted before any WSP where
 * FWS is allowed) so that lines stay within 78 characters (§2.1.1 SHOULD), never 998 (MUST).
 *
 * A fold is made only before a space that is already there, so unfolding gives back exactly the
 * value that was folded. A word longer than the line stays whole on a line of its own.
 */

export const MAX_LINE_LENGTH = 78;
const HARD_LIMIT = 998;

/** Refuse anything that could end the field early or smuggle in another field. */
function assertNoLineBreak(text: string): void {
  if (/[\r\n\0]/.test(text))
    throw new RangeError(`header text must not contain CR, LF or NUL: ${JSON.stringify(text)}`);
}

/**
 * Fold `Name: value` into CRLF-terminated lines of at most `maxLength` characters where possible.
 *
 * `value` may be given as segments (e.g. the clauses of a Received field): a segment is kept on one
 * line when it fits, and lines break between segments before they break inside one.
 */
export function foldHeader(
  name: string,
  value: string | readonly string[],
  maxLength = MAX_LINE_LENGTH,
): string {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name))
    throw new RangeError(`invalid header field name: ${JSON.stringify(name)}`);
  const segments = (typeof value === 'string' ? [value] : value).map((s) => s.trim()).filter((s) => s !== '');
  segments.forEach(assertNoLineBreak);
  const lines: string[] = [];
  let line = `${name}:`;
  let hasWord = false; // the current line holds text after the name or the indent
  const breakLine = (): void => {
    lines.push(line);
    line = '';
    hasWord = false;
  };
  const put = (word: string): void => {
    // Break only before a word, never leaving a line of white space alone (RFC 5322 §3.2.2).
    if (word !== '' && hasWord && line.length + 1 + word.length > maxLength) breakLine();
    line += ` ${word}`;
    if (word !== '') hasWord = true;
  };
  for (const segment of segments) {
    const fits = line.length + 1 + segment.length <= maxLength;
    if (!fits && hasWord && 1 + segment.length <= maxLength) breakLine();
    if (line.length + 1 + segment.length <= maxLength) {
      line += ` ${segment}`;
      hasWord = true;
    } else {
      segment.split(' ').forEach(put);
    }
  }
  lines.push(line);
  for (const l of lines) {
    if (l.length > HARD_LIMIT) throw new RangeError(`header line longer than ${HARD_LIMIT} characters`);
  }
  return lines.join('\r\n') + '\r\n';
}
