export { createInboundResolver, type InboundResolverOptions } from './resolver';
export {
  checkSpf,
  spfPassDomain,
  type SmtpFacts,
  type SpfCheck,
  type SpfOptions,
  type SpfVerdict,
} from './spf';
export {
  MessageAuthenticator,
  type AuthenticatorOptions,
  type SealingKey,
  type SealResult,
} from './authenticator';
export { decide, type DecisionOptions } from './decision';
export { authenticationResultsValue, claimsAuthservId, formatAuthenticationResults } from './auth-results';
export type {
  ArcVerdict,
  AuthVerdict,
  DkimVerdict,
  DmarcVerdict,
  PolicyAction,
  PolicyDecision,
  StoredAuthResults,
} from './verdict';
