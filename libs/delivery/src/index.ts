/**
 * @mta/delivery — the delivery agents a `delivery` worker runs for one job: remote SMTP
 * (MX lookup or smart host, pooled sessions, a Redis-backed per-destination limit) and local
 * delivery (Maildir, LMTP). Plain classes; see libs/delivery/README.md.
 */
export {
  allRecipients,
  kindOf,
  type BodySource,
  type DeliveryAgent,
  type DeliveryEnvelope,
  type DeliveryKind,
  type DeliveryRecipient,
  type DeliveryReport,
  type DeliveryRequest,
  type DeliveryStatus,
  type ShapingLimit,
  type RecipientDelivery,
} from './contract';
export { bodyFromBuffer, bodyFromDatabase, openBody } from './body';
export { toOutcomeResults, type OutcomeResult } from './outcome';
export { RemoteDeliveryAgent, type RemoteAgentOptions } from './remote/remote-agent';
export { SmtpConnectionPool, type ConnectionPoolOptions, type SessionLimits } from './remote/connection-pool';
export { parseRelayHost, type RelayHost } from './remote/route';
export {
  RedisDestinationLimiter,
  type DestinationLimiter,
  type Lease,
  type RedisLimiterOptions,
} from './limits/destination-limiter';
export {
  ConcurrencyLimitedAgent,
  defaultDestination,
  type LimitedAgentOptions,
} from './limits/limited-agent';
export { ProcessShare, destinationShare } from './limits/process-share';
export { RateLimitedAgent, type RateLimitedAgentOptions } from './limits/rate-limited-agent';
export { RedisRateLimiter, type RateDecision, type RateLimiter } from './limits/rate-limiter';
export {
  DEFAULT_SHAPING,
  loadShapingOverrides,
  ShapingTable,
  type Shaping,
  type ShapingOverride,
  type ShapingSource,
} from './limits/shaping';
export { MaildirDeliveryAgent, CrlfToLf, type MaildirAgentOptions } from './local/maildir-agent';
export { LmtpDeliveryAgent, type LmtpAgentOptions } from './local/lmtp-agent';
export { createLocalDeliveryAgent, type MaildirSettings } from './local/local-agent';
export { loadDeliveryRequest, type DeliveryJobRef, type RequestLoad } from './request-loader';
export {
  DeliveryWorker,
  type DeliveryAgents,
  type DeliveryJobData,
  type DeliveryWorkerDeps,
  type DeliveryWorkerOptions,
  type JobResult,
} from './worker/delivery-worker';
export {
  createDeliveryAgents,
  relayCredentials,
  type AgentSettings,
  type ClosableAgents,
  type RelayAuthSettings,
} from './worker/agents';
