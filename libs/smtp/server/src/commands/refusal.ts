/** Reading a hook's answer. */
import { SmtpError, type SmtpReply } from '@mta/smtp-protocol';

/** A hook's answer as a refusal, or null when it accepts. */
export function refusal(r: SmtpReply | SmtpError | void | undefined): SmtpError | null {
  if (r instanceof SmtpError) return r;
  // A plain reply object with a 4yz/5yz code is a refusal too, not a reason to apply the command.
  if (r !== undefined && r !== null && r.code >= 400) return SmtpError.fromReply(r);
  return null;
}

/** Did the hook answer with a promise (or any thenable)? */
export function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
