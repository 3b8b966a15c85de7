/**
 * The local delivery agent that `LOCAL_DELIVERY` names: `maildir:/path` or `lmtp://host:port`.
 */
import type { LocalDeliveryTarget } from '@mta/config';
import type { DeliveryAgent } from '../contract';
import { LmtpDeliveryAgent, type LmtpAgentOptions } from './lmtp-agent';
import { MaildirDeliveryAgent } from './maildir-agent';

export function createLocalDeliveryAgent(
  target: LocalDeliveryTarget,
  options: Omit<LmtpAgentOptions, 'host' | 'port'>,
): DeliveryAgent {
  return target.kind === 'maildir'
    ? new MaildirDeliveryAgent({ root: target.path })
    : new LmtpDeliveryAgent({ ...options, host: target.host, port: target.port });
}
