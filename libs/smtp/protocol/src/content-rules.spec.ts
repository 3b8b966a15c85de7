/**
 * DATA and BDAT apply one content rule (issue 17 item 1): for any message content, sending it
 * dot-stuffed by DATA or as BDAT chunks gives the same verdict and, when accepted, the same
 * stored bytes, under both `bareNewline` policies and for any split of the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BdatDecoder } from './bdat-decoder';
import { BARE_NEWLINE_POLICIES, type BareNewlinePolicy } from './content-rules';
import { DataDecoder } from './data-decoder';
import { dotStuff } from './dot-stuffer';

interface Verdict {
  error: string | null;
  body: string;
}

function pieces(input: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts)].filter((c) => c > 0 && c < input.length).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, input.length]) {
    out.push(input.subarray(from, p));
    from = p;
  }
  return out;
}

function byData(content: Buffer, cuts: readonly number[], bareNewline: BareNewlinePolicy): Verdict {
  const d = new DataDecoder({ bareNewline });
  const body: Buffer[] = [];
  for (const piece of pieces(dotStuff(content), cuts)) {
    const r = d.feed(piece);
    body.push(...r.chunks);
    if (r.end) {
      const error = r.end.error ? `${r.end.error.code} ${r.end.error.enhanced}` : null;
      return { error, body: error ? '' : Buffer.concat(body).toString('latin1') };
    }
  }
  throw new Error('DATA did not end');
}

/** BDAT with one chunk per piece (the chunk boundaries are the cuts), the last one LAST. */
function byBdat(content: Buffer, cuts: readonly number[], bareNewline: BareNewlinePolicy): Verdict {
  const d = new BdatDecoder({ bareNewline });
  const body: Buffer[] = [];
  const list = pieces(content, cuts);
  for (const [k, piece] of list.entries()) {
    let end = d.begin(piece.length, k === list.length - 1);
    if (end === null) {
      const r = d.feed(piece);
      body.push(...r.chunks);
      end = r.end;
    }
    if (end === null) throw new Error('chunk did not complete');
    if (end.error) return { error: `${end.error.code} ${end.error.enhanced}`, body: '' };
  }
  return { error: null, body: Buffer.concat(body).toString('latin1') };
}

const fragment = fc.constantFrom(
  '\r\n',
  '\r',
  '\n',
  '.',
  '..',
  'a',
  ' ',
  '\x00',
  '\xff',
  '\n.\n',
  '\r\n.\r\n',
);
const content = fc
  .array(fragment, { maxLength: 30 })
  .map((parts) => Buffer.from(`${parts.join('')}\r\n`, 'latin1'));

describe('one content rule for DATA and BDAT', () => {
  it.each(BARE_NEWLINE_POLICIES)('same verdict and bytes by DATA and by BDAT (%s, fast-check)', (policy) => {
    fc.assert(
      fc.property(content, fc.array(fc.nat({ max: 80 }), { maxLength: 6 }), (c, cuts) => {
        const data = byData(c, cuts, policy);
        // One BDAT chunk: the very same reply.
        expect(byBdat(c, [], policy)).toEqual(data);
        // Several chunks: BDAT answers the chunk where the first fault is (RFC 3030 §2), which
        // may be a lesser fault than the worst one DATA reports at its end; refused all the same.
        const chunked = byBdat(c, cuts, policy);
        expect(chunked.error !== null).toBe(data.error !== null);
        expect(chunked.body).toBe(data.body);
      }),
      { numRuns: 3000 },
    );
  });

  it('the issue 17 header: refused by both, under both policies', () => {
    const c = Buffer.from('Subject: hi\rFrom: ceo@victim.test\r\n\r\nx\r\n', 'latin1');
    for (const policy of BARE_NEWLINE_POLICIES) {
      expect(byData(c, [], policy).error).toBe('550 5.5.2');
      expect(byBdat(c, [7], policy).error).toBe('550 5.5.2');
    }
  });
});
