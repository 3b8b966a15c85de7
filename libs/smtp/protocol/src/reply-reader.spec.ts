import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replyText, replyToBuffer, smtpReply, type SmtpReply } from './reply';
import { ReplyProtocolError, ReplyReader } from './reply-reader';

/** A reply as the client logs it: no enhanced code is `null`, `text` is `replyText()`. */
const view = (r: SmtpReply) => ({
  code: r.code,
  enhanced: r.enhanced ?? null,
  text: replyText(r),
  lines: r.lines,
});

describe('ReplyReader (RFC 5321 §4.2.1)', () => {
  it.each([
    ['single line', '250 OK\r\n', [{ code: 250, enhanced: null, text: 'OK', lines: ['OK'] }]],
    ['code only', '250\r\n', [{ code: 250, enhanced: null, text: '', lines: [''] }]],
    [
      'multi-line EHLO',
      '250-mx.test\r\n250-PIPELINING\r\n250 SIZE 100\r\n',
      [
        {
          code: 250,
          enhanced: null,
          text: 'mx.test PIPELINING SIZE 100',
          lines: ['mx.test', 'PIPELINING', 'SIZE 100'],
        },
      ],
    ],
    [
      'enhanced code stripped from every line (RFC 2034 §3)',
      '550-5.1.1 no such\r\n550 5.1.1 user\r\n',
      [{ code: 550, enhanced: '5.1.1', text: 'no such user', lines: ['no such', 'user'] }],
    ],
    [
      'class mismatch is not an enhanced code',
      '250 5.1.1 odd\r\n',
      [{ code: 250, enhanced: null, text: '5.1.1 odd', lines: ['5.1.1 odd'] }],
    ],
    ['bare LF tolerated', '221 bye\n', [{ code: 221, enhanced: null, text: 'bye', lines: ['bye'] }]],
    [
      'two pipelined replies in one chunk',
      '250 2.1.0 Ok\r\n450 4.2.0 later\r\n',
      [
        { code: 250, enhanced: '2.1.0', text: 'Ok', lines: ['Ok'] },
        { code: 450, enhanced: '4.2.0', text: 'later', lines: ['later'] },
      ],
    ],
    [
      'smtp-sink style empty last line',
      '250-smtp-sink\r\n250 \r\n',
      [{ code: 250, enhanced: null, text: 'smtp-sink', lines: ['smtp-sink', ''] }],
    ],
  ])('%s', (_name, input, expected) => {
    expect(new ReplyReader().push(input).map(view)).toEqual(expected);
  });

  it('assembles replies split across chunks at any byte', () => {
    const wire = '250-first\r\n250-second\r\n250 third\r\n354 go\r\n';
    for (let cut = 1; cut < wire.length; cut++) {
      const r = new ReplyReader();
      const out = [...r.push(wire.slice(0, cut)), ...r.push(wire.slice(cut))];
      expect(out.map((x) => x.code)).toEqual([250, 354]);
      expect(out[0].lines).toEqual(['first', 'second', 'third']);
      expect(r.hasPartial()).toBe(false);
    }
  });

  it('keeps UTF-8 text (RFC 6531 §3.7.1)', () => {
    expect(view(new ReplyReader().push(Buffer.from('250 grüße\r\n'))[0]).text).toBe('grüße');
  });

  it.each([
    ['garbage', 'hello\r\n'],
    ['code out of range', '999 what\r\n'],
    ['code changes inside a multi-line reply', '250-a\r\n251 b\r\n'],
    ['over-long line', 'x'.repeat(5000)],
  ])('rejects %s', (_name, input) => {
    expect(() => new ReplyReader().push(input)).toThrow(ReplyProtocolError);
  });

  it('reads back what formatReply writes, as the same SmtpReply', () => {
    expect(new ReplyReader().push('550-5.1.1 no such\r\n550 5.1.1 user\r\n')).toStrictEqual([
      smtpReply(550, '5.1.1', ['no such', 'user']),
    ]);
    expect(new ReplyReader().push('250 OK\r\n')).toStrictEqual([smtpReply(250, undefined, 'OK')]);
    const text = fc.stringMatching(/^([A-Za-zé][A-Za-zé .:-]*)?$/);
    const reply = fc
      .tuple(
        fc.constantFrom(220, 221, 250, 354, 421, 450, 452, 535, 550, 554),
        fc.option(fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 999 }))),
        fc.array(text, { minLength: 1, maxLength: 4 }),
      )
      .map(([code, sub, lines]) => {
        const cls = Math.floor(code / 100);
        const enhanced = sub && cls !== 3 ? `${cls}.${sub[0]}.${sub[1]}` : undefined;
        return smtpReply(code, enhanced, lines);
      });
    fc.assert(
      fc.property(reply, (r) => {
        expect(new ReplyReader().push(replyToBuffer(r))).toStrictEqual([r]);
      }),
    );
  });
});

describe('replyText', () => {
  it.each([
    [smtpReply(250, undefined, 'OK'), 'OK'],
    [smtpReply(250, '2.0.0', ''), ''],
    [smtpReply(550, '5.1.1', ['no such', 'user']), 'no such user'],
    [smtpReply(250, undefined, ['smtp-sink', '']), 'smtp-sink'],
  ])('%j → %j', (reply, text) => {
    expect(replyText(reply)).toBe(text);
  });
});
