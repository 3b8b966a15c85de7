// @mta/policy: the checks of the policy service as plain functions over a context (no Nest, no
// BullMQ inside the checks): SPF, DKIM, DMARC and ARC through mailauth, DKIM signing, DNSBL,
// greylisting, rate limits; their Redis stores, the worker that answers the `policy` queue, and
// the client (PolicyGate) the SMTP services ask at connect, MAIL and RCPT.
export {
  DkimStreamSigner,
  dkimSignMessage,
  SIGNED_HEADER_FIELDS,
  signingKeys,
  type DkimKeyAlgorithm,
  type DkimSignResult,
  type DkimSigningKey,
  type StoredDkimKey,
} from './dkim-signer';
export * from './inbound';
export { ACCEPT, POLICY_UNAVAILABLE, refuse, type PolicyAnswer, type PolicyRefusal } from './answers';
export {
  answerQuestion,
  clientKey,
  greylistTriplet,
  type AccountLimitOverrides,
  type CheckDependencies,
  type PolicyQuestion,
} from './checks';
export { PolicyClient, answerChannel, type PolicyAsker } from './client';
export { dnsListResolver, findListing, listQueryName, type DnsListResolver, type Listing } from './dns-lists';
export { PolicyGate, type PolicyLookups, type PolicyObserver, type PolicySession } from './gate';
export { RedisPolicyStore } from './redis-stores';
export {
  policySettings,
  stageNeeded,
  type PolicyConfig,
  type PolicySettings,
  type Stage,
  type SubmissionLimits,
} from './settings';
export type { GreylistStore, GreylistVerdict, RateCounter, RateLimit } from './stores';
export { startPolicyWorker, type PolicyWorkerOptions } from './worker';
export { AccountRateLimits, PrismaAccountLimits, PrismaDomainGreylisting } from './account-limits';
export { startPolicyService, type PolicyServiceOptions, type RunningPolicyService } from './service';
