/**
 * @mta/tls-policy — what outbound TLS a delivery needs: MTA-STS (RFC 8461) policies and
 * their shared cache; the per-domain plan the remote delivery agent follows.
 */
export {
  MtaStsPolicies,
  classify as classifyMtaStsError,
  type MtaStsLookup,
  type MtaStsOptions,
  type TlsRptFetchError,
} from './mta-sts/mta-sts';
export { RedisPolicyStore, type CachedPolicy, type PolicyStore } from './mta-sts/store';
export { certificateMatchesHost, checkDnsIdentity } from './names';
export {
  OutboundTlsPolicy,
  certificateFailure,
  noPolicy,
  type HostTls,
  type TlsPlan,
  type TlsPolicyLabel,
} from './plan';
export {
  mtaStsPolicyId,
  mtaStsPolicyText,
  publishedMaxAge,
  type MtaStsMode,
  type PublishedPolicyInput,
} from './mta-sts/publish';
export {
  RedisTlsRptStore,
  utcDay,
  type FailureDetail,
  type PolicyResults,
  type ReportPolicy,
  type TlsRptRecorder,
} from './tlsrpt/store';
export type { SessionEvent } from './plan';
export {
  buildReport,
  parseTlsRptRecord,
  reportFileName,
  reportMail,
  type ReportInput,
  type ReportMailInput,
  type TlsReport,
} from './tlsrpt/report';
export {
  msUntilNextRun,
  postHttps as postTlsReport,
  sendDailyReports,
  type DomainReportResult,
  type TlsReportDeps,
  type TlsReportSettings,
} from './tlsrpt/daily';
export { DanePolicies, type DaneOptions, type HostDane } from './dane/dane';
export { daneVerify, usableTlsa } from './dane/verify';
export type { PlanOptions } from './plan';
