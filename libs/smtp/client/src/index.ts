/**
 * @mta/smtp-client — the outbound SMTP client used by the delivery workers.
 * Plain TypeScript on node:net / node:tls; see client.ts for the usage sketch.
 * Replies, EHLO capabilities, the reply reader and dot-stuffing come from @mta/smtp-protocol.
 */
export { SmtpClient, type ConnectOptions, type ConnectResult } from './client';
export type { TlsPolicy, TlsSettings, SessionInfo } from './handshake';
export type { OutgoingMessage, SendResult } from './transaction';
export type { RecipientResult, MessageOutcome } from './results';
export type { Recipient, DsnNotify, DsnRequest } from './envelope';
export { headerHasNonAscii } from './envelope';
export type { MessageBody } from './body-writer';
export type { AuthCredentials, AuthMechanism } from './auth';
export {
  DeliveryError,
  kindOfCode,
  type DeliveryErrorInit,
  type OutcomeKind,
  type ReplySource,
  type SessionStage,
} from './errors';
export { DEFAULT_TIMEOUTS, type Timeouts } from './timeouts';
export type { TlsFacts } from './tls-facts';
export type { TraceEvent, TraceFn } from './connection';
