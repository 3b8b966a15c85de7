/**
 * @mta/smtp-server — the SMTP server: `net`/`tls` listeners, the session driver over
 * `@mta/smtp-protocol`, STARTTLS, AUTH, limits, PROXY protocol and the async handler interface.
 */
export { SmtpServer } from './server';
export type { ExtensionToggles, ListenerOptions, SmtpServerOptions } from './options';
export type { Awaitable, Envelope, HookResult, SessionInfo, SmtpHandler, TlsInfo } from './handler';
export { ServerReplies } from './server-replies';
export { TransferAbortedError } from './body-transfer';
export { withProtocol } from './session-info';
export { clientNetwork } from './client-network';
export {
  parseProxyHeader,
  proxyV1Header,
  proxyV2Header,
  type ProxyAddresses,
  type ProxyParseResult,
} from './proxy-protocol';
export { MESSAGE_STREAM_HIGH_WATER_MARK } from './message-stream';
