import type { DsnNotify, DsnRet } from '@mta/db';
import type { StoredAuthResults } from '@mta/policy';
import type { RecipientRoute } from './recipient-resolver';

/** Everything intake knows about a message at the end of DATA. */
export interface IncomingMessage {
  /** Chosen when the data began (see newQueueId), so the Received header can name it. */
  queueId: string;
  source: 'mx' | 'submission';
  /** Envelope sender; `''` for the null sender `<>`. */
  sender: string;
  clientAddress: string;
  /** The client's forward-confirmed name (FCrDNS, client-name.ts); null: none. */
  clientHostname?: string | null;
  clientHelo: string | null;
  authUser: string | null;
  recipients: {
    address: string;
    domain: string;
    route: RecipientRoute;
    notify: DsnNotify[];
    orcpt: string | null;
  }[];
  dsnRet: DsnRet | null;
  dsnEnvid: string | null;
  smtpUtf8: boolean;
  eightBitMime: boolean;
  /** MAIL FROM ... REQUIRETLS (RFC 8689 §4.1: the message is tagged for REQUIRETLS handling). */
  requireTls?: boolean;
  header: { messageId: string | null; from: string | null; subject: string | null };
  /** The message, header and body, in order (see BodyCollector). */
  chunks: Buffer[];
  size: number;
  /** mx: the SPF/DKIM/ARC/DMARC verdict and the decision (`messages.auth_results`). */
  authResults?: StoredAuthResults | null;
  /** mx: DMARC p=quarantine; local delivery files the message in the Junk folder. */
  quarantine?: boolean;
}

export interface StoredMessage {
  id: string;
  queueId: string;
}
