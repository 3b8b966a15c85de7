/**
 * The first part of a DSN (RFC 6522 §3: a human-readable explanation of the report). Written for
 * the sender, who is rarely a mail expert:
 * what failed, what the other side said, and what to do about it, chosen by the status code
 * (RFC 3463 subjects: X.1 address, X.2 mailbox, X.3 mail system, X.4 network and routing,
 * X.5 protocol, X.6 content, X.7 security or policy).
 */
import { formatDate } from '../date';
import type { DsnRecipient } from './delivery-status';

export interface HumanTextInput {
  readonly reportingMta: string;
  readonly recipients: readonly DsnRecipient[];
  /** The original Subject, decoded, to help the sender find the message. */
  readonly originalSubject?: string;
  /** What is attached: the whole message, its headers, or nothing. */
  readonly returned: 'full' | 'headers' | 'none';
  /** The headers only because the message was over the size limit for returning it. */
  readonly truncatedForSize?: boolean;
}

/** The advice for a failed or delayed recipient, by enhanced status code. */
export function adviceFor(status: string, action: DsnRecipient['action']): string {
  if (action === 'delayed') {
    return 'Nothing to do for now: we keep trying and will tell you if we have to give up. Do not send the message again.';
  }
  const [, subject, detail] = status.split('.').map(Number);
  const code = `${subject}.${detail}`;
  if (code === '1.10')
    return "The recipient's domain does not accept email at all. Check the address, or reach them another way.";
  if (code === '1.2')
    return 'The domain after the @ does not exist or does not receive email. Check it for typing mistakes.';
  if (subject === 1)
    return 'This address does not exist there. Check it for typing mistakes, or ask the recipient for their current address.';
  if (code === '2.2') return "The recipient's mailbox is full. Try again later, or reach them another way.";
  if (code === '2.3' || code === '3.4')
    return "The message is too large for the recipient's system. Send it again with smaller or fewer attachments, or share a link instead.";
  if (subject === 2)
    return "The recipient's mailbox cannot take mail at the moment (disabled or closed). Reach them another way.";
  if (code === '4.7')
    return 'We tried for several days without success and gave up. If the address is right, try again later or reach the recipient another way.';
  if (subject === 4)
    return "The recipient's mail server could not be reached. If the address is right, the problem is probably on their side: try again later.";
  if (subject === 6) return "The recipient's system could not accept the content or format of the message.";
  if (subject === 7)
    return "The recipient's system refused the message for a policy reason (for example a spam filter, or a failed SPF/DKIM/DMARC check). If you think this is a mistake, reach the recipient another way, or ask your mail administrator to look at it.";
  return 'If the address is right, reach the recipient another way, or forward this report to your mail administrator.';
}

/** Wrap text at `width` columns, each line prefixed with `indent`. */
function wrap(text: string, indent = '', width = 76): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return lines;
}

function reason(r: DsnRecipient): string {
  if (r.diagnosticCode && r.remoteMta) return `The server ${r.remoteMta} answered: ${r.diagnosticCode}`;
  if (r.diagnosticCode) return `Reason: ${r.diagnosticCode}`;
  return `Status: ${r.status}`;
}

const SECTIONS: { action: DsnRecipient['action']; title: string }[] = [
  { action: 'failed', title: 'Could not be delivered to' },
  { action: 'delayed', title: 'Delayed, still trying' },
  { action: 'delivered', title: 'Delivered to' },
  { action: 'relayed', title: 'Passed on (no further reports from there) to' },
  { action: 'expanded', title: 'Delivered and forwarded (mailing list or alias) to' },
];

/** The text of the first part, CRLF line ends. */
export function humanReadableText(input: HumanTextInput): string {
  const has = (a: DsnRecipient['action']): boolean => input.recipients.some((r) => r.action === a);
  const out: string[] = [`This is the mail delivery system at ${input.reportingMta}.`, ''];
  const intro = has('failed')
    ? 'Your message could not be delivered to one or more recipients. The details are below.'
    : has('delayed')
      ? 'Your message has not been delivered yet to one or more recipients. We are still trying; this is only a notice.'
      : 'This is the delivery report you asked for.';
  out.push(...wrap(`${intro} This message was written automatically; there is no need to reply to it.`));
  if (input.originalSubject !== undefined)
    out.push('', ...wrap(`Subject of your message: ${input.originalSubject}`));
  for (const { action, title } of SECTIONS) {
    const group = input.recipients.filter((r) => r.action === action);
    if (group.length === 0) continue;
    out.push('', `${title}:`);
    for (const r of group) {
      out.push('', `  <${r.finalRecipient}>`);
      if (action === 'failed' || action === 'delayed') {
        out.push(...wrap(reason(r), '    '));
        if (action === 'delayed' && r.willRetryUntil) {
          out.push(...wrap(`We will keep trying until ${formatDate(r.willRetryUntil)}.`, '    '));
        }
        out.push(...wrap(`What you can do: ${adviceFor(r.status, action)}`, '    '));
      } else if (r.remoteMta) {
        out.push(...wrap(`Accepted by ${r.remoteMta}.`, '    '));
      }
    }
  }
  out.push('');
  if (input.returned === 'full') out.push(...wrap('Your message is attached below.'));
  else if (input.returned === 'headers' && input.truncatedForSize) {
    out.push(...wrap('Your message was too large to be returned in full; its headers are attached below.'));
  } else if (input.returned === 'headers')
    out.push(...wrap('The headers of your message are attached below.'));
  out.push(...wrap('If you need help, forward this report to your mail administrator.'));
  return out.join('\r\n') + '\r\n';
}
