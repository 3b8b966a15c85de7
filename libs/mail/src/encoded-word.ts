/**
 * Decoding of RFC 2047 encoded-words in unstructured header text (Subject) and display names.
 *
 *   encoded-word = "=?" charset ["*" language] "?" encoding "?" encoded-text "?="   (§2, RFC 2231 §5)
 *   encoding     = "B" (base64, §4.1) / "Q" (§4.2: "_" is SP, "=XX" an octet)
 *
 * §6.2: whitespace between two adjacent encoded-words is ignored when displaying. Adjacent words of
 * the same charset are decoded together, so a multi-octet character split across two words (which
 * many senders do, against §5) still comes out whole. An unknown charset leaves the word as it is.
 */

const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding === 'B' || encoding === 'b') return Buffer.from(text, 'base64');
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '_') out.push(0x20);
    else if (ch === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Buffer.from(out);
}

/** windows-1252 at 0x80..0x9F (0 where undefined): Node 20's TextDecoder reads these as latin1. */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,
  0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a,
  0x0153, 0, 0x017e, 0x0178,
];

function decodeCharset(charset: string, bytes: Buffer): string | undefined {
  let decoder;
  try {
    decoder = new TextDecoder(charset.toLowerCase());
  } catch {
    return undefined; // RangeError: a charset the runtime does not know
  }
  // The WHATWG Encoding Standard maps us-ascii and iso-8859-1 labels to windows-1252 as well,
  // which is what senders labelled that way really use.
  if (decoder.encoding !== 'windows-1252') return decoder.decode(bytes);
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] || b : b);
  return out;
}

interface Run {
  charset: string;
  bytes: Buffer[];
  raw: string;
}

/** Decode the encoded-words in `text`; text that is not an encoded-word is left alone. */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text;
  let out = '';
  let run: Run | undefined;
  let last = 0;
  const flush = (): void => {
    if (!run) return;
    out += decodeCharset(run.charset, Buffer.concat(run.bytes)) ?? run.raw;
    run = undefined;
  };
  for (const m of text.matchAll(ENCODED_WORD)) {
    const between = text.slice(last, m.index);
    const adjacent = run !== undefined && /^[ \t\r\n]*$/.test(between);
    if (!adjacent) {
      flush();
      out += between;
    }
    const [raw, charset, encoding, encoded] = m;
    const bytes = wordBytes(encoding, encoded);
    if (run && run.charset.toLowerCase() === charset.toLowerCase()) {
      run.bytes.push(bytes);
      run.raw += raw;
    } else {
      flush();
      run = { charset, bytes: [bytes], raw };
    }
    last = m.index + raw.length;
  }
  flush();
  return out + text.slice(last);
}
