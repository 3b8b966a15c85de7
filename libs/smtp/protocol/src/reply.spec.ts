import { describe, expect, it } from 'vitest';
import { formatReply, isEnhancedCode, replyClass, replyToBuffer, smtpReply, SmtpError } from './reply';
import { Replies } from './replies';

describe('smtpReply / formatReply', () => {
  it.each([
    [smtpReply(250, '2.0.0', 'OK'), '250 2.0.0 OK\r\n'],
    [smtpReply(250, undefined, 'mx.example.org'), '250 mx.example.org\r\n'],
    [smtpReply(354, undefined, 'Go ahead'), '354 Go ahead\r\n'],
    [smtpReply(334, undefined, ''), '334 \r\n'],
    [
      smtpReply(250, undefined, ['mx.example.org', 'PIPELINING', 'SIZE 1000']),
      '250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n',
    ],
    [smtpReply(550, '5.7.1', ['first', 'second']), '550-5.7.1 first\r\n550 5.7.1 second\r\n'],
    [smtpReply(250, '2.0.0', ''), '250 2.0.0\r\n'],
    [smtpReply(250, '2.0.0', []), '250 2.0.0\r\n'],
  ])('formats %j', (reply, wire) => {
    expect(formatReply(reply)).toBe(wire);
  });

  it('renders bytes', () => {
    expect(replyToBuffer(smtpReply(221, '2.0.0', 'Bye')).toString('latin1')).toBe('221 2.0.0 Bye\r\n');
    expect(replyToBuffer(smtpReply(250, '2.0.0', 'é')).length).toBe('250 2.0.0 '.length + 2 + 2);
  });

  it.each([
    [199, undefined],
    [600, undefined],
    [250.5, undefined],
    [250, '5.0.0'], // class must match the first digit (RFC 3463 §3.1)
    [550, '2.1.0'],
    [451, '5.3.0'],
    [354, '3.0.0'], // no class 3 in RFC 3463
    [250, '2.0'],
    [250, '2.0.0.0'],
    [250, 'x.y.z'],
  ] as const)('refuses code %s with enhanced %s', (code, enhanced) => {
    expect(() => smtpReply(code, enhanced, 'x')).toThrow(RangeError);
  });

  it.each(['a\r\nb', 'a\nb', 'a\rb', 'nul\0', 'del\x7f'])('refuses control characters in text %j', (text) => {
    expect(() => smtpReply(250, undefined, text)).toThrow(RangeError);
    expect(() => smtpReply(250, undefined, ['ok', text])).toThrow(RangeError);
  });

  it('validates enhanced codes', () => {
    expect(isEnhancedCode('5.7.10')).toBe(true);
    expect(isEnhancedCode('2.1.5')).toBe(true);
    expect(isEnhancedCode('3.1.5')).toBe(false);
    expect(isEnhancedCode('5.1000.1')).toBe(false);
  });

  it.each([
    [220, 'positive'],
    [354, 'intermediate'],
    [452, 'transient'],
    [554, 'permanent'],
  ] as const)('classifies %i as %s', (code, cls) => {
    expect(replyClass({ code })).toBe(cls);
  });
});

describe('SmtpError', () => {
  it('carries code, enhanced code and text and renders itself', () => {
    const e = new SmtpError(503, '5.5.1', 'Bad sequence of commands');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('SmtpError');
    expect(e.code).toBe(503);
    expect(e.enhanced).toBe('5.5.1');
    expect(e.text).toBe('Bad sequence of commands');
    expect(e.message).toBe('Bad sequence of commands');
    expect(e.permanent).toBe(true);
    expect(e.toReplyString()).toBe('503 5.5.1 Bad sequence of commands\r\n');
    expect(e.toBuffer().toString()).toBe('503 5.5.1 Bad sequence of commands\r\n');
  });

  it('renders multi-line errors', () => {
    const e = new SmtpError(550, '5.7.1', ['Rejected', 'see https://example.org']);
    expect(e.toReplyString()).toBe('550-5.7.1 Rejected\r\n550 5.7.1 see https://example.org\r\n');
  });

  it('is transient for 4yz', () => {
    expect(new SmtpError(451, '4.3.0', 'later').permanent).toBe(false);
  });

  it('refuses positive codes and mismatched classes', () => {
    expect(() => new SmtpError(250, '2.0.0', 'ok')).toThrow(RangeError);
    expect(() => new SmtpError(550, '4.0.0', 'x')).toThrow(RangeError);
  });

  it('round-trips through fromReply', () => {
    const e = SmtpError.fromReply(smtpReply(552, '5.3.4', 'too big'));
    expect(e.toReplyString()).toBe('552 5.3.4 too big\r\n');
  });
});

describe('Replies', () => {
  it.each([
    ['badSequence', Replies.badSequence(), 503, '5.5.1'],
    ['unknownCommand', Replies.unknownCommand(), 500, '5.5.1'],
    ['syntaxError', Replies.syntaxError(), 500, '5.5.2'],
    ['lineTooLong', Replies.lineTooLong(), 500, '5.5.2'],
    ['badArguments', Replies.badArguments(), 501, '5.5.4'],
    ['badSenderSyntax', Replies.badSenderSyntax(), 501, '5.1.7'],
    ['badRecipientSyntax', Replies.badRecipientSyntax(), 501, '5.1.3'],
    ['unknownParameter', Replies.unknownParameter('FOO'), 555, '5.5.4'],
    ['notImplemented', Replies.notImplemented('EXPN'), 502, '5.5.1'],
    ['unknownAuthMechanism', Replies.unknownAuthMechanism(), 504, '5.5.4'],
    ['tlsRequired', Replies.tlsRequired(), 530, '5.7.0'],
    ['encryptionRequiredForAuth', Replies.encryptionRequiredForAuth(), 538, '5.7.11'],
    ['authRequired', Replies.authRequired(), 530, '5.7.0'],
    ['authFailed', Replies.authFailed(), 535, '5.7.8'],
    ['authCancelled', Replies.authCancelled(), 501, '5.0.0'],
    ['authBadBase64', Replies.authBadBase64(), 501, '5.5.2'],
    ['authLineTooLong', Replies.authLineTooLong(), 500, '5.5.6'],
    ['smtpUtf8Required', Replies.smtpUtf8Required(), 553, '5.6.7'],
    ['messageTooBig', Replies.messageTooBig(10), 552, '5.3.4'],
    ['tooManyRecipients', Replies.tooManyRecipients(), 452, '4.5.3'],
    ['bareLineEnding', Replies.bareLineEnding(), 550, '5.5.2'],
    ['dataLineTooLong', Replies.dataLineTooLong(1000), 500, '5.5.2'],
    ['localError', Replies.localError(), 451, '4.3.0'],
  ])('%s is %i %s', (_name, error, code, enhanced) => {
    expect(error).toBeInstanceOf(SmtpError);
    expect(error.code).toBe(code);
    expect(error.enhanced).toBe(enhanced);
  });

  it.each([
    [Replies.ok(), '250 2.0.0 OK\r\n'],
    [Replies.closing(), '221 2.0.0 Bye\r\n'],
    [Replies.startData(), '354 End data with <CR><LF>.<CR><LF>\r\n'],
    [Replies.readyToStartTls(), '220 2.0.0 Ready to start TLS\r\n'],
    [Replies.authSucceeded(), '235 2.7.0 Authentication successful\r\n'],
    [Replies.queued('ABC123'), '250 2.0.0 OK: queued as ABC123\r\n'],
    [Replies.greeting('mx.example.org'), '220 mx.example.org ESMTP ready\r\n'],
    [Replies.authChallenge('VXNlcm5hbWU6'), '334 VXNlcm5hbWU6\r\n'],
    [Replies.cannotVerify(), '252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n'],
    [Replies.senderOk(), '250 2.1.0 Sender OK\r\n'],
    [Replies.recipientOk(), '250 2.1.5 Recipient OK\r\n'],
    [Replies.chunkOk(42), '250 2.0.0 42 octets received\r\n'],
  ])('positive reply %#', (reply, wire) => {
    expect(formatReply(reply)).toBe(wire);
  });
});
