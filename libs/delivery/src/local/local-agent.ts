/**
 * The local delivery agent that `LOCAL_DELIVERY` names: `maildir:/path` or `lmtp://host:port`.
 */
import type { LocalDeliveryTarget } from '@mta/config';
import type { DeliveryAgent } from '../contract';
import { LmtpDeliveryAgent, type LmtpAgentOptions } from './lmtp-agent';
import { MaildirDeliveryAgent, type MaildirAgentOptions } from './maildir-agent';

/** MAILDIR_FILE_MODE, MAILDIR_DIR_MODE, MAILDIR_OWNER (used only for `maildir:` targets). */
export type MaildirSettings = Omit<MaildirAgentOptions, 'root'>;

export function createLocalDeliveryAgent(
  target: LocalDeliveryTarget,
  options: Omit<LmtpAgentOptions, 'host' | 'port'>,
  maildir: MaildirSettings = {},
): DeliveryAgent {
  return target.kind === 'maildir'
    ? new MaildirDeliveryAgent({ ...maildir, root: target.path })
    : new LmtpDeliveryAgent({ ...options, host: target.host, port: target.port });
}
