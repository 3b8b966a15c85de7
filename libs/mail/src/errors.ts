/**
 * The errors this library raises for a message the intake should refuse. They are `SmtpError`s,
 * so the SMTP server can answer with them as they are (`err.toBuffer()`).
 */
import { SmtpError } from '@mta/smtp-protocol';

/** The header block passed the limit: 552 5.3.4 (RFC 3463 §3.4: X.3.4 message too big for system). */
export class HeaderTooLargeError extends SmtpError {
  constructor(readonly limit: number) {
    super(552, '5.3.4', `Message header too large: more than ${limit} octets`);
    this.name = 'HeaderTooLargeError';
  }
}

/**
 * Too many `Received:` fields: a mail loop. RFC 5321 §6.3 asks for a hop limit (at least 100 is
 * suggested); RFC 3463 §3.5: X.4.6 routing loop detected. The intake answers 554 5.4.6.
 */
export class TooManyHopsError extends SmtpError {
  constructor(
    readonly hops: number,
    readonly limit: number,
  ) {
    super(554, '5.4.6', `Too many hops (${hops} Received headers, limit ${limit}): mail loop?`);
    this.name = 'TooManyHopsError';
  }
}
